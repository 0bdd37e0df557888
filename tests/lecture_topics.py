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

# week 3: filled in with the week-3 lectures (issue 17)
WEEK3: dict[str, list[str]] = {}

# week 4: filled in with the week-4 lectures (issue 17)
WEEK4: dict[str, list[str]] = {}

TOPICS = {"week1": WEEK1, "week2": WEEK2, "week3": WEEK3, "week4": WEEK4}
