"""Fine-grained image-text alignment, derived step by step in notebooks: LAPS, GRM, relative anchors, DecAlign and their baselines.

Modules:

- `finealign.data.msa`: Multimodal sentiment data (text, audio and vision sequences with a sentiment score): a safe reader for MMSA pickles, the CMU-MOSI development split, a seeded synthetic generator, a torch dataset with padding masks, and the MOSI / MOSEI / CH-SIMS / IEMOCAP metrics exactly as MMSA and DecAlign compute them.
- `finealign.data.mvsa`: MVSA-Single, image–tweet sentiment: a checked reader for the folder, the token-feature split the predictor engine trains on (word pieces with a mask, a 7 × 7 grid of image tokens), a torch dataset and the 3-way metrics.
- `finealign.data.precomp`: The precomputed bottom-up-attention region features that SCAN released (and VSE∞, SGRAF, CHAN reuse), read memory-mapped in SCAN's layout and handed to every aligner as `Tokens`: 36 regions per image, no CNN.
- `finealign.data.scenes`: A seeded generator of compositional scenes (shapes, colours, sizes and spatial relations on cluttered backgrounds) with captions, masks, word-to-object grounding and binding negatives: a benchmark that needs no download.
- `finealign.data.segdata`: Labelled images with their class lists: ImageNet-style classification (images, class names, class ids) and semantic segmentation masks from COCO instances, CamVid and the synthetic scenes, with explicit background and void labels.
- `finealign.encoders.backbones`: One interface for images and captions: token features, a padding mask and a global feature from timm and transformers backbones, the bundled EfficientNet-Lite0 and MiniLM weights, projections to a shared width and freezing.
- `finealign.encoders.cache`: A feature cache on disk: frozen-encoder experiments encode each image and caption once, in chunks written atomically, so an interrupted run resumes where it stopped.
- `finealign.engine.zeroshot`: Zero-shot classification (top-1/top-5 with prompt ensembles) and zero-shot semantic segmentation (mIoU and foreground mIoU from per-patch class scores) for any aligner: the protocols PAL and its baselines are measured with."""

__version__ = "0.0.1"
