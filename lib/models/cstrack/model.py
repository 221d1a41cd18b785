"""CSTrack networks: ``CSTRACK_S1`` (spatial) and ``CSTRACK_S2`` (adds the temporal module).

The class names are the reference's: the trainer names checkpoints after them
(``CSTRACK_S1_ep0150.pth.tar``). Attribute names and registration order are the released state_dict
layout (docs/formats.md) and must not change.

Each network also declares how it is trained (timm's ``no_weight_decay`` / ``group_matcher`` style), so
the trainer asks the network instead of keeping tables of module names: :attr:`encoder_modules` (the
lower learning-rate group), :attr:`frozen_modules`, :attr:`new_modules` (absent from the checkpoint a
stage warm-starts from), :attr:`warm_start_from` and :meth:`parameters_without_gradient`.
"""
from __future__ import annotations

from typing import ClassVar, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from lib.models.backbones.fast_itpn import FastITPN
from lib.models.cstrack.scm import SpatialCompactModule
from lib.models.cstrack.tcm import (TemporalFusion, box_gaussian_prior, search_attention_map, select_tokens,
                                    update_memory)
from lib.models.layers.heads import CenterPredictor, ConfidencePred, TaskClsBranch

Tensor = torch.Tensor


class CSTRACK_S1(nn.Module):  # noqa: N801 (reference class name, used in checkpoint file names)
    """Stage 1: shared patch embedding for RGB and X, Spatial Compact Module, joint stage 3, heads.

    Token sequence of stage 3 (docs/architecture.md): class token, P RGB prompts, P X prompts, two
    templates, search tokens. The heads read the last ``Nx`` tokens, the task head token 0.
    """

    #: Top-level modules trained at ``TRAIN.LR * TRAIN.ENCODER_MULTIPLIER``. T30 (docs/parity.md): the RGB-X
    #: fusion decoder counts as encoder, as the reference's ``"backbone" in name`` test made it.
    encoder_modules: ClassVar[Tuple[str, ...]] = ("backbone", "backbone_rgb_det_fusion")
    #: Top-level modules whose parameters are frozen when this network is trained (they stay in train mode).
    frozen_modules: ClassVar[Tuple[str, ...]] = ()
    #: Top-level modules this stage adds to the network it warm-starts from.
    new_modules: ClassVar[Tuple[str, ...]] = ()
    #: Registry name of the network whose checkpoint a fresh training run starts from (None: the
    #: Fast-iTPN pretraining file, ``MODEL.PRETRAIN_FILE``).
    warm_start_from: ClassVar[Optional[str]] = None

    def __init__(self, backbone: FastITPN, box_head: CenterPredictor, num_prompts: int = 4,
                 num_heads: int = 8, scm_mlp_ratio: float = 1.0, scm_dropout: float = 0.1,
                 task_hidden_dim: int = 256, num_task_classes: int = 4):
        super().__init__()
        dim = backbone.embed_dim
        self.backbone = backbone
        self.box_head = box_head
        self.task_cls = TaskClsBranch(dim, task_hidden_dim, num_task_classes)
        self.rgb_prompts = nn.Embedding(num_prompts, dim)
        self.det_prompts = nn.Embedding(num_prompts, dim)
        self.cls_prompts_pos = nn.Embedding(2 * num_prompts + 1, dim)
        self.backbone_rgb_det_fusion = SpatialCompactModule(dim, num_heads, num_prompts, scm_mlp_ratio, scm_dropout)
        self.confidence_pred = ConfidencePred(box_head.feat_sz)
        self.num_prompts = num_prompts
        self.feat_sz = box_head.feat_sz
        self.num_search_tokens = self.feat_sz ** 2

    def parameters_without_gradient(self) -> List[str]:
        """Names of the trainable parameters the forward pass never uses, so they get no gradient.

        Non-empty means DistributedDataParallel needs ``find_unused_parameters=True``. Stage 1: the
        backbone's pretraining positions (``backbone.pos_embed``); stage 2 freezes them with the encoder.
        """
        unused = {f"backbone.{name}" for name in self.backbone.unused_in_forward}
        return [name for name, p in self.named_parameters() if name in unused and p.requires_grad]

    # ---------------------------------------------------------------- shared pieces
    def positional_table(self) -> Tensor:
        """``[cls_prompts_pos, pos_embed_z, pos_embed_x]`` (1, 1 + 2P + 2Nz + Nx, D), docs/architecture.md."""
        return torch.cat([self.cls_prompts_pos.weight.unsqueeze(0), self.backbone.pos_embed_z,
                          self.backbone.pos_embed_x], dim=1)

    def forward_backbone(self, templates: Sequence[Tensor], search: Tensor, masks: Sequence[Tensor],
                         intermediates: Optional[Dict[str, Tensor]] = None) -> Tensor:
        """Embed RGB and X, fuse them (SCM), run stage 3: -> backbone feature (B, 393, D).

        ``templates``: 2 tensors (B, 6, Ht, Wt); ``search`` (B, 6, Hs, Ws); ``masks``: 2 tensors (B, Nz, 1).
        When ``intermediates`` is a dict it receives ``pe_outputs.{0,1}``, ``scm_output.0`` and
        ``stage3_output.0`` (the names of the parity fixtures).
        """
        bb = self.backbone
        streams = []
        for channels in (slice(0, 3), slice(3, 6)):  # RGB, then X, through the same weights
            z0 = bb.embed_patches(templates[0][:, channels])
            z1 = bb.embed_patches(templates[1][:, channels])
            x = bb.embed_patches(search[:, channels])
            streams.append(bb.add_token_types(z0, z1, x, masks[0], masks[1]))
        batch = search.shape[0]
        pos = self.positional_table()
        p = self.num_prompts
        rgb = torch.cat([self.rgb_prompts.weight.unsqueeze(0).expand(batch, -1, -1), streams[0]], dim=1)
        x_mod = torch.cat([self.det_prompts.weight.unsqueeze(0).expand(batch, -1, -1), streams[1]], dim=1)
        # Quirk Q5: both prompt sets use rows P+1..2P of cls_prompts_pos inside the SCM.
        fused = self.backbone_rgb_det_fusion(rgb, x_mod, pos[:, p + 1:])
        feat = bb.forward_main_blocks(fused, pos)
        if intermediates is not None:
            intermediates.update({"pe_outputs.0": streams[0], "pe_outputs.1": streams[1],
                                  "scm_output.0": fused, "stage3_output.0": feat})
        return feat

    def forward_head(self, feat: Tensor) -> Dict[str, Tensor]:
        """Center head + confidence head on the last Nx tokens of ``feat`` (B, N, D)."""
        search = feat[:, -self.num_search_tokens:]
        fmap = search.transpose(1, 2).reshape(search.shape[0], -1, self.feat_sz, self.feat_sz)
        score_map, boxes, size_map, offset_map = self.box_head(fmap)
        return {"pred_boxes": boxes.view(-1, 1, 4), "score_map": score_map, "size_map": size_map,
                "offset_map": offset_map, "confidence_pred": self.confidence_pred(score_map, size_map, offset_map)}

    @staticmethod
    def _batch_inputs(template: Sequence[Tensor], search: Union[Tensor, Sequence[Tensor]],
                      masks: Sequence[Tensor]):
        """Stack a list of search frames time-major and repeat the templates / masks to match."""
        if isinstance(search, Tensor):
            return list(template), search, list(masks), 1
        n = len(search)
        search = torch.cat(list(search), dim=0)
        template = [t.repeat(n, 1, 1, 1) for t in template]
        masks = [m.repeat(n, 1, 1) for m in masks]
        return template, search, masks, n

    # ---------------------------------------------------------------- forward
    def forward(self, template: Sequence[Tensor], search: Union[Tensor, Sequence[Tensor]],
                soft_token_template_mask: Sequence[Tensor], update_cls_token: Optional[Tensor] = None,
                training: bool = True, intermediates: Optional[Dict[str, Tensor]] = None) -> Dict[str, Tensor]:
        """Stage-1 forward (docs/architecture.md); ``search`` is a tensor (inference) or a list (training).

        ``update_cls_token`` and ``training`` are kept for call compatibility with the reference; the
        layout of ``search`` alone decides the path.
        """
        template, search, masks, _ = self._batch_inputs(template, search, soft_token_template_mask)
        feat = self.forward_backbone(template, search, masks, intermediates)
        out = self.forward_head(feat)
        out.update({"attn": None, "backbone_feat": feat, "task_res": self.task_cls(feat[:, 0])})
        return out


class CSTRACK_S2(CSTRACK_S1):  # noqa: N801 (reference class name)
    """Stage 2: stage 1 plus the Temporal Compact Module (4-slot memory of top-16 search tokens).

    Trained from a stage-1 checkpoint with the encoder (and, T30, the fusion decoder) frozen; only the
    heads, prompts, positions and the temporal module learn (docs/training.md).
    """

    frozen_modules = CSTRACK_S1.encoder_modules
    new_modules = ("dy_template_pos_embed", "temporal_fusion")
    warm_start_from = "cstrack_s1"

    def __init__(self, backbone: FastITPN, box_head: CenterPredictor, memory_slots: int = 4, topk: int = 16,
                 tcm_ffn_dim: int = 1024, tcm_dropout: float = 0.1, **kwargs):
        super().__init__(backbone, box_head, **kwargs)
        dim = backbone.embed_dim
        # Registered after every stage-1 module: exactly the stage-2 checkpoint order.
        self.dy_template_pos_embed = nn.Embedding(memory_slots, dim)
        self.temporal_fusion = TemporalFusion(dim, kwargs.get("num_heads", 8), tcm_ffn_dim, tcm_dropout)
        self.memory_slots = memory_slots
        self.topk = topk

    def _temporal_step(self, feat: Tensor, pos: Tensor, memory: List[Tensor], first_frame: bool):
        """One frame of the temporal step (docs/architecture.md): attention map -> (init memory) -> fusion ->
        heads -> Gaussian -> memory update."""
        search_tokens = feat[:, -self.num_search_tokens:]
        att = search_attention_map(feat, self.num_search_tokens)
        if first_frame:
            # Quirk Q10: the first fusion sees 4 copies of this frame's own tokens, chosen without the prior.
            memory = [select_tokens(search_tokens, att, self.topk)] * self.memory_slots
        memory_pos = self.dy_template_pos_embed.weight.repeat_interleave(memory[0].shape[1], dim=0).unsqueeze(0)
        fused = self.temporal_fusion(feat, torch.cat(memory, dim=1), pos, memory_pos)
        out = self.forward_head(fused)
        gaussian = box_gaussian_prior(out["pred_boxes"], self.feat_sz)
        attn_xz = att + gaussian
        z0_filter = select_tokens(search_tokens, attn_xz, self.topk)
        out.update({"attn_xz": attn_xz, "gaussion_map": gaussian, "z0_filter": z0_filter})
        return out, update_memory(memory, z0_filter, first_frame, self.memory_slots)

    def forward(self, template: Sequence[Tensor], search: Union[Tensor, Sequence[Tensor]],
                soft_token_template_mask: Sequence[Tensor], update_cls_token: Optional[Tensor] = None,
                temporal_infor: Optional[List[Tensor]] = None, first_frame_flag: bool = False,
                training: bool = True, intermediates: Optional[Dict[str, Tensor]] = None) -> Dict[str, Tensor]:
        """Stage-2 forward (docs/architecture.md).

        Training layout: ``search`` is a list of Ns frames (B, 6, H, W); the memory starts at frame 0
        and is carried through the clip. Inference: ``search`` is one tensor; the memory comes in as
        ``temporal_infor`` (list of slots, ignored when ``first_frame_flag``) and leaves under the
        output key ``temporal_infor`` (names kept from the reference, as are ``gaussion_map`` and
        ``z0_filter``). Outputs are concatenated over frames, time-major (row ``t * B + b``).
        """
        template, search, masks, n_frames = self._batch_inputs(template, search, soft_token_template_mask)
        feat = self.forward_backbone(template, search, masks, intermediates)
        pos = self.positional_table()
        batch = feat.shape[0] // n_frames
        memory = list(temporal_infor) if temporal_infor else []
        first = first_frame_flag or not memory
        per_frame: List[Dict[str, Tensor]] = []
        for t in range(n_frames):
            out_t, memory = self._temporal_step(feat[t * batch:(t + 1) * batch], pos, memory, first and t == 0)
            per_frame.append(out_t)
        out = {key: torch.cat([o[key] for o in per_frame], dim=0)
               for key in ("pred_boxes", "score_map", "size_map", "offset_map", "confidence_pred", "attn_xz",
                           "gaussion_map")}
        out["task_res"] = self.task_cls(feat[:, 0])  # Q25: from the stage-3 class token, before fusion
        out["z0_filter"] = per_frame[-1]["z0_filter"]
        out["temporal_infor"] = memory
        return out
