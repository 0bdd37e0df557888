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

# week 3: filled in with the week-3 lectures (issue 17)
WEEK3: dict[str, list[str]] = {}

# week 4: filled in with the week-4 lectures (issue 17)
WEEK4: dict[str, list[str]] = {}

TOPICS = {"week1": WEEK1, "week2": WEEK2, "week3": WEEK3, "week4": WEEK4}
