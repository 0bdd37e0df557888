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
}

# week 2: filled in with the week-2 lectures (issue 16)
WEEK2: dict[str, list[str]] = {}

# week 3: filled in with the week-3 lectures (issue 17)
WEEK3: dict[str, list[str]] = {}

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
