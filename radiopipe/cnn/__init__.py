"""The CNN-embedding branch: pretrained image embeddings as feature columns, explained on the image.

A backbone from a closed registry (:mod:`radiopipe.cnn.backbones`) embeds each case's prepared
inputs (:mod:`radiopipe.cnn.inputs`: ROI crops of 2D images, ROI slices or orthogonal planes of
3D volumes) in shared batches (:mod:`radiopipe.cnn.embed`); embeddings are cached per case like
features (:mod:`radiopipe.cnn.extraction`) and join the feature table as ``cnn__{backbone}__e{j}``.
The models reduce them in-fold by PCA (:class:`radiopipe.models.embedding.EmbeddingPCA`), and
:mod:`radiopipe.cnn.saliency` maps a case's SHAP-weighted CNN contribution back onto its image.

Importing this package imports neither torch nor onnxruntime; they load when a backbone does
(``pip install 'radiopipe[cnn]'``).
"""

from radiopipe.cnn.columns import component_prefix, embedding_column, split_feature_columns
from radiopipe.cnn.runtime import INSTALL_HINT

__all__ = ["INSTALL_HINT", "component_prefix", "embedding_column", "split_feature_columns"]
