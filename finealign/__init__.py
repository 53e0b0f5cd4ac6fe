"""Fine-grained image-text alignment, derived step by step in notebooks: LAPS, GRM, relative anchors, DecAlign and their baselines.

Modules:

- `finealign.cache`: A feature cache on disk: frozen-encoder experiments encode each image and caption once, in chunks written atomically, so an interrupted run resumes where it stopped.
- `finealign.encoders`: One interface for images and captions: token features, a padding mask and a global feature from timm and transformers backbones, the bundled EfficientNet-Lite0 and MiniLM weights, projections to a shared width and freezing.
- `finealign.scenes`: A seeded generator of compositional scenes (shapes, colours, sizes and spatial relations on cluttered backgrounds) with captions, masks, word-to-object grounding and binding negatives: a benchmark that needs no download."""

__version__ = "0.0.1"
