"""Pure ``nn.Module`` models. Nothing here imports :mod:`core.tasks` or Streamlit.

Import the module you need (``from core.models.triplet_cnn import TripletCNNEncoder``); this
package imports nothing itself so that ``import core.models`` stays free of torch.
"""
