"""The optional semantic layer: local embeddings beside spreading activation.

`base` holds the `Embedder` protocol and the int8 row format every stored vector uses;
`registry` maps a model id to its embedder (loaded on first use, so nothing heavy is
imported unless a brain has the layer on); `static` is the real implementation (model2vec
static embeddings distilled from all-MiniLM-L6-v2, shipped in `models/`); `hybrid` turns a
query into semantic anchors for recall.
"""
