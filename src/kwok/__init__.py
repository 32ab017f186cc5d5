"""KWOK in Python: fake kubelets driven by Stages, and a Kubernetes-compatible control plane."""

__version__ = "0.1.0"
# The Kubernetes version the embedded API server reports and kwok writes into nodeInfo.
KUBE_VERSION = "1.36.3"
