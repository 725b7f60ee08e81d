"""Family fingerprints (seed 001): MSA -> one-hot features -> VAE fingerprints -> CNN classifier.

Modules: :mod:`.preprocess` (filters, gap rules, balancing, split), :mod:`.features` (one-hot
residues, reprof SS/SA), :mod:`.hmm` (pyhmmer build/align/search), :mod:`.vae` and
:mod:`.classifier` (the paper's two networks), :mod:`.evaluate` (reconstruction, BLOSUM62,
K-means, Minkowski search), :mod:`.baselines` (profile HMMs, k-mer logistic regression).
"""
