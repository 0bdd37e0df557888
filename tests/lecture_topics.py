"""The lecture topics of the course design (shared/DESIGN.md, "Lecture topics"), week by week, each with
words that must appear somewhere in that week's lectures (course/weekN/*.ipynb). tests/test_lectures.py
checks them; a week with no lectures yet has no entry."""

WEEK1 = {
    "vertical/horizontal edges": ["vertical", "horizontal"],
    "Sobel and Scharr": ["Sobel", "Scharr"],
    "learned filters": ["learn"],
    "light-to-dark vs dark-to-light": ["light-to-dark", "dark-to-light"],
    "valid vs same padding, p=(f-1)/2": ["valid", "same", "p = \\frac{f - 1}{2}"],
    "strides and the output size": ["stride", "\\lfloor"],
    "cross-correlation vs convolution": ["cross-correlation", "flip", "associative"],
    "volumes and multiple filters": ["volume", "n_C"],
    "one conv layer and its parameters": ["bias", "parameters"],
    "a simple ConvNet": ["ConvNet"],
    "max and average pooling, no parameters": ["max pooling", "average pooling", "no parameters"],
    "LeNet-5-like example": ["LeNet"],
    "why convolutions": ["parameter sharing", "sparse connections", "translation"],
    "receptive field and stacks of 3x3 filters": ["receptive field", "27C^2", "49C^2", "non-linearity"],
    "multi-channel convolution step by step": ["per channel", "bias", "one filter"],
    "convolution as a matrix product (im2col)": ["im2col", "patch matrix", "matrix product"],
    "backprop: input gradient as a full convolution, max pooling routes the gradient":
        ["full convolution", "flipped", "finite differences", "routes"],
}

# week 2: filled in with the week-2 lectures (issue 16)
WEEK2: dict[str, list[str]] = {
    "LeNet-5": ["LeNet-5", "average pool"],
    "AlexNet": ["AlexNet", "ReLU", "dropout", "GPUs"],
    "VGG-16: halving size, doubling channels": ["VGG-16", "halves", "doubles"],
    "residual blocks": ["residual block", "skip connection", "a^{[l+2]} = g\\left(z^{[l+2]} + a^{[l]}\\right)"],
    "why residual blocks train deep nets: identity easy to learn": ["identity", "gradient"],
    "projection shortcut Ws": ["projection", "W_s"],
    "1x1 convolutions: network in network, shrinking channels, non-linearity":
        ["network in network", "channels", "non-linearity"],
    "Inception motivation": ["Inception", "concatenate"],
    "Inception cost: the bottleneck cuts multiplications about tenfold": ["bottleneck", "120.4 million", "12.4 million"],
    "GoogLeNet and its side branches": ["GoogLeNet", "side branches", "auxiliary classifiers"],
}
WEEK2.update({
    "MobileNet depthwise-separable convolutions and their cost": [
        "MobileNet", "depthwise", "pointwise", "\\frac{1}{n_{C'}} + \\frac{1}{f^2}"],
    "MobileNetV2 expansion/depthwise/projection bottleneck": ["MobileNetV2", "expands", "projects", "residual"],
    "EfficientNet compound scaling of resolution, depth and width": [
        "EfficientNet", "compound scaling", "resolution", "depth", "width", "\\alpha = 1.2"],
    "transfer learning: how much to freeze vs data size": ["transfer learning", "freeze", "fine-tuning"],
    "data augmentation": ["mirroring", "random crops", "rotation", "shearing", "colour shifting",
                          "PCA colour augmentation"],
    "little data -> more hand engineering": ["hand engineering", "labelled data"],
    "ensembling and multi-crop at test time": ["Ensembling", "Multi-crop at test time", "10 crops"],
})

WEEK3 = {
    "object localisation and its loss": ["p_c", "b_x", "b_h", "don't care", "loss"],
    "landmark detection": ["landmark", "1 + 2n"],
    "sliding windows": ["sliding window", "stride"],
    "fully connected layers as convolutions": ["1\\times1$ convolution", "convolutionalise", "speed-up"],
    "bounding boxes on a grid (YOLO)": ["YOLO", "centre", "cell units"],
    "intersection over union": ["IoU", "union"],
    "non-max suppression": ["non-max suppression", "IoU threshold", "score threshold"],
    "anchor boxes and k-means": ["anchor", "k-means", "1 - \\text{IoU}"],
    "region proposals (R-CNN family)": ["R-CNN", "Fast R-CNN", "Faster R-CNN", "selective search"],
    "semantic segmentation": ["semantic segmentation", "every pixel"],
    "transposed convolutions": ["transposed convolution", "checkerboard", "Conv2DTranspose"],
    "U-Net": ["U-Net", "skip connection", "encoder", "decoder"],
}

# week 4 (issue 17)
WEEK4 = {
    "verification (1:1) vs recognition (1:K)": ["verification", "recognition", "1:1", "1:K"],
    "recognition needs a very accurate verifier": ["1 - (1 - p)^K", "false-accept rate"],
    "eigenfaces/PCA": ["eigenface", "PCA"],
    "LDA (Fisherfaces)": ["Fisherfaces", "LinearDiscriminantAnalysis"],
    "SVM": ["SVM", "SVC"],
    "one-shot and few-shot learning with a similarity function": ["one-shot", "few-shot", "similarity function"],
    "Siamese networks": ["Siamese"],
    "triplet loss (margin, hard triplets)": ["triplet loss", "margin", "hard"],
    "verification as binary classification with precomputed embeddings": [
        "binary classification", "precomputed", "logistic regression"],
    "what deep ConvNets learn": ["receptive field", "patch"],
    "neural style transfer, J(G) = alpha J_content + beta J_style": [
        "style transfer", "J(G) = \\alpha\\, J_{content}(C, G) + \\beta\\, J_{style}(S, G)"],
    "content cost": ["content cost", "J_{content}"],
    "style as channel correlation (Gram matrix), per-layer weights": [
        "Gram matrix", "correlation", "\\lambda^{[l]}"],
    "1D and 3D convolutions (signals, volumes, video)": ["1D", "3D", "Conv1D", "Conv3D", "signal", "volume", "video"],
}

TOPICS = {"week1": WEEK1, "week2": WEEK2, "week3": WEEK3, "week4": WEEK4}
