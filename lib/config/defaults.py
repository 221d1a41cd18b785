"""Default configuration: the reference ``lib/config/cstrack_s1/config.py`` keys and values.

Every key a yaml may set must exist here, and its default's type is the type the key accepts (an
int key refuses 2.5; a float key takes 2 as 2.0; list elements are typed by :data:`LIST_ITEM_TYPES`).
Values keep the reference defaults, quirks included (e.g. ``DATA.TEMPLATE.SIZE`` defaults to 256 and
only the yaml's 128 gives the 8x8 template grid, quirk Q23 in docs/parity.md), so the authors' yamls
load unchanged. Keys marked "(new)" are this framework's additions; their defaults reproduce the
reference model and behaviour exactly.
"""
from __future__ import annotations

import copy
from typing import Any, Dict

_IMAGENET_MEAN = [0.485, 0.456, 0.406]
_IMAGENET_STD = [0.229, 0.224, 0.225]

DEFAULTS: Dict[str, Any] = {
    "MODEL": {
        # (new) network registered in lib.models (cstrack_s1 / cstrack_s2). Empty, as in the authors' yamls:
        # the caller's script decides (--script in training); a value that contradicts it is an error.
        "ARCH": "",
        "PRETRAIN_FILE": "",
        "PRETRAINED_PATH": "",  # stage 2: stage-1 checkpoint to start from
        "EXTRA_MERGER": False,
        "RETURN_INTER": False,
        "RETURN_STAGES": [],
        "HIDDEN_DIM": 256,  # read by nothing in CSTrack (the head width is the backbone width)
        "BACKBONE": {
            "TYPE": "vit_base_patch16_224",
            "STRIDE": 16,
            "MID_PE": False,
            "SEP_SEG": False,
            "CAT_MODE": "direct",
            "MERGE_LAYER": 0,
            "ADD_CLS_TOKEN": False,
            "CLS_TOKEN_USE_MODE": "ignore",
            # (new) architecture sizes; defaults are Fast-iTPN base "3324" as CSTrack builds it
            "EMBED_DIM": 512,
            "DEPTHS": [3, 3, 24],
            "NUM_HEADS": 8,
            "MLP_RATIO": 3.0,
            "BRIDGE_MLP_RATIO": 3.0,
            "PRETRAIN_IMG_SIZE": 224,
            "LAYER_SCALE_INIT": 0.1,
        },
        "HEAD": {
            "TYPE": "CENTER",
            "NUM_CHANNELS": 512,
            # (new) hidden width of the task-classification MLP and number of task classes
            "TASK_HIDDEN_DIM": 256,
            "NUM_TASK_CLASSES": 4,
        },
        # (new) Spatial Compact Module (docs/architecture.md)
        "SCM": {"NUM_PROMPTS": 4, "MLP_RATIO": 1.0, "DROPOUT": 0.1},
        # (new) Temporal Compact Module, stage 2 only (docs/architecture.md)
        "TCM": {"MEMORY_SLOTS": 4, "TOPK": 16, "FFN_DIM": 1024, "DROPOUT": 0.1},
    },
    "TRAIN": {
        "LR": 0.0001,
        "WEIGHT_DECAY": 0.0001,
        "EPOCH": 500,
        "LR_DROP_EPOCH": 400,
        "BATCH_SIZE": 8,
        "NUM_WORKER": 8,
        "OPTIMIZER": "ADAMW",
        "BACKBONE_MULTIPLIER": 0.1,  # read by nothing; ENCODER_MULTIPLIER is the factor used
        "ENCODER_MULTIPLIER": 0.1,
        "FREEZE_ENCODER": False,
        "ENCODER_OPEN": [],
        "CE_WEIGHT": 1.0,
        "GIOU_WEIGHT": 2.0,
        "L1_WEIGHT": 5.0,
        "FOCAL_WEIGHT": 1.0,  # (new) reference hard-codes 1.0
        "TASK_CLS_WEIGHT": 1.0,  # (new) reference hard-codes 1.0
        "CONFIDENCE_WEIGHT": 1.0,  # (new) reference hard-codes 1.0
        "DEEP_SUPERVISION": False,
        "DISTILL": False,
        "DISTILL_LOSS_TYPE": "KL",
        "PRETRAINED_PATH": None,
        "PRINT_INTERVAL": 50,  # iterations between progress lines and tensorboard scalars
        "TB_IMAGE_INTERVAL": 500,  # (new) iterations between tensorboard images of a training sample; 0 = none
        "VAL_EPOCH_INTERVAL": 20,
        "GRAD_CLIP_NORM": 0.1,
        "AMP": False,
        "FIX_BN": False,  # read by nothing in the reference (docs/training.md)
        "DROP_PATH_RATE": 0.1,
        "SAVE_EVERY_EPOCH": 10,  # (new) reference: every 10 epochs ...
        "SAVE_LAST_EPOCHS": 10,  # (new) ... and each of the last 10
        "SCHEDULER": {"TYPE": "step", "DECAY_RATE": 0.1},
    },
    "DATA": {
        "SAMPLER_MODE": "order",
        "LOADER": "tracking",
        "SEQ_FORMAT": "xywh",
        "MEAN": list(_IMAGENET_MEAN),
        "STD": list(_IMAGENET_STD),
        "MAX_SAMPLE_INTERVAL": 200,
        # (new) dataset names (as in DATASETS_NAME) that read every sequence folder under their root
        # instead of their official split list in lib/train/data_specs/ (own or synthetic data)
        "ALL_SEQUENCES": [],
        "MULTI_MODAL_VISION": True,
        "MULTI_MODAL_LANGUAGE": True,
        "TRAIN": {
            "DATASETS_NAME": ["LASOT", "GOT10K_vottrain"],
            "DATASETS_RATIO": [1.0, 1.0],
            "SAMPLE_PER_EPOCH": 60000,
        },
        "VAL": {
            "DATASETS_NAME": ["GOT10K_votval"],
            "DATASETS_RATIO": [1.0],
            "SAMPLE_PER_EPOCH": 10000,
        },
        "SEARCH": {"NUMBER": 1, "SIZE": 256, "FACTOR": 4.0, "CENTER_JITTER": 3.5, "SCALE_JITTER": 0.5},
        "TEMPLATE": {"NUMBER": 1, "SIZE": 256, "FACTOR": 4.0, "CENTER_JITTER": 0.0, "SCALE_JITTER": 0.0},
    },
    "TEST": {
        "TEMPLATE_FACTOR": 4.0,
        "TEMPLATE_SIZE": 128,
        "SEARCH_FACTOR": 4.0,
        "SEARCH_SIZE": 256,
        "EPOCH": 500,
        "WINDOW": False,  # ignored by the reference tracker: the Hann window is always applied (Q14)
        "NUM_TEMPLATES": 1,
        "UPDATE_INTERVALS": {"DEFAULT": 25},
        "UPDATE_THRESHOLD": {"DEFAULT": 0.475},  # ignored by the reference tracker (Q13)
        "MULTI_MODAL_VISION": {
            "DEFAULT": True,
            "DEPTHTRACK": True,
            "LASHER": True,
            "VISEVENT": True,
            "OTB99_LANG": True,
            "TNL2K": True,
            "LASOT_LANG": True,
        },
    },
}

# Dict-valued keys whose entries are user-named (dataset names): any sub-key is allowed there.
OPEN_DICTS = {"TEST.UPDATE_INTERVALS", "TEST.UPDATE_THRESHOLD", "TEST.MULTI_MODAL_VISION"}

# Element type of every list-valued key (float elements also accept ints).
LIST_ITEM_TYPES: Dict[str, type] = {
    "MODEL.RETURN_STAGES": int,
    "MODEL.BACKBONE.DEPTHS": int,
    "TRAIN.ENCODER_OPEN": str,
    "DATA.MEAN": float,
    "DATA.STD": float,
    "DATA.ALL_SEQUENCES": str,
    "DATA.TRAIN.DATASETS_NAME": str,
    "DATA.TRAIN.DATASETS_RATIO": float,
    "DATA.VAL.DATASETS_NAME": str,
    "DATA.VAL.DATASETS_RATIO": float,
}


def get_defaults() -> Dict[str, Any]:
    """A fresh deep copy of the defaults (callers may mutate it)."""
    return copy.deepcopy(DEFAULTS)
