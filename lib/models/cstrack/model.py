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
from lib.models.cstrack.tcm import (FirstFrame, TemporalFusion, box_gaussian_prior, restart_memory,
                                    search_attention_map, select_tokens, update_memory)
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

    def embed_rgb_x(self, images: Sequence[Tensor]) -> Tuple[List[Tensor], List[Tensor]]:
        """Patch tokens of the RGB and X halves of same-sized 6-channel images, each (B, N, D).

        The halves go through the shared patch-embedding weights as one batch (the same per-image
        computation as one call each, fewer and larger matrix products).
        """
        halves = [image[:, channels] for channels in (slice(0, 3), slice(3, 6)) for image in images]
        tokens = self.backbone.embed_patches(torch.cat(halves, dim=0)).chunk(len(halves), dim=0)
        return list(tokens[:len(images)]), list(tokens[len(images):])

    def embed_templates(self, templates: Sequence[Tensor], masks: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        """Template tokens of RGB and X with their token types: two (B, 2*Nz, D) tensors.

        They change only when a template changes: a tracker computes them at a template update and
        passes them to :meth:`forward` as ``template_tokens`` instead of the template images.
        """
        rgb, x = self.embed_rgb_x(templates)
        add = self.backbone.add_template_token_types
        return add(rgb[0], rgb[1], masks[0], masks[1]), add(x[0], x[1], masks[0], masks[1])

    def forward_backbone(self, templates: Optional[Sequence[Tensor]], search: Tensor,
                         masks: Optional[Sequence[Tensor]], intermediates: Optional[Dict[str, Tensor]] = None,
                         template_tokens: Optional[Tuple[Tensor, Tensor]] = None, repeats: int = 1) -> Tensor:
        """Embed RGB and X, fuse them (SCM), run stage 3: -> backbone feature (B, 393, D).

        ``templates``: 2 tensors (B, 6, Ht, Wt) and ``masks``: 2 tensors (B, Nz, 1), or instead
        ``template_tokens`` from :meth:`embed_templates`; ``search`` (repeats * B, 6, Hs, Ws), its
        frames time-major; the template tokens are repeated ``repeats`` times to match. When
        ``intermediates`` is a dict it receives ``pe_outputs.{0,1}``, ``scm_output.0`` and
        ``stage3_output.0`` (the names of the parity fixtures).
        """
        bb = self.backbone
        if template_tokens is None:
            template_tokens = self.embed_templates(templates, masks)
        if repeats > 1:
            template_tokens = tuple(t.repeat(repeats, 1, 1) for t in template_tokens)
        search_rgb, search_x = self.embed_rgb_x([search])
        streams = [torch.cat([template_tokens[0], bb.add_search_token_type(search_rgb[0])], dim=1),
                   torch.cat([template_tokens[1], bb.add_search_token_type(search_x[0])], dim=1)]
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
        """Center head + confidence head on the last Nx tokens of ``feat`` (B, N, D).

        In inference on a CPU a batch goes through the center head one sample at a time: the CPU
        convolution kernels pick their algorithm by batch size and memory layout, so a batched call
        rounds differently, and sequences tracked together must get the boxes they get alone (the
        head is a few percent of the network's cost).
        """
        search = feat[:, -self.num_search_tokens:]
        if not self.training and search.shape[0] > 1 and search.device.type == "cpu":
            parts = [self.box_head(self._search_map(search[i:i + 1])) for i in range(search.shape[0])]
            score_map, boxes, size_map, offset_map = (torch.cat(maps, dim=0) for maps in zip(*parts))
        else:
            score_map, boxes, size_map, offset_map = self.box_head(self._search_map(search))
        return {"pred_boxes": boxes.view(-1, 1, 4), "score_map": score_map, "size_map": size_map,
                "offset_map": offset_map, "confidence_pred": self.confidence_pred(score_map, size_map, offset_map)}

    def _search_map(self, search: Tensor) -> Tensor:
        """Search tokens (B, Nx, D) as the (B, D, F, F) map the head convolves (row-major grid)."""
        return search.transpose(1, 2).reshape(search.shape[0], -1, self.feat_sz, self.feat_sz)

    @staticmethod
    def _stack_search(search: Union[Tensor, Sequence[Tensor]]) -> Tuple[Tensor, int]:
        """One search tensor (inference) or a list of Ns frames stacked time-major (training), and Ns.

        The templates of a training clip are embedded once and their tokens repeated Ns times
        (:meth:`forward_backbone`), the same numbers as embedding Ns copies.
        """
        if isinstance(search, Tensor):
            return search, 1
        return torch.cat(list(search), dim=0), len(search)

    # ---------------------------------------------------------------- forward
    def forward(self, template: Optional[Sequence[Tensor]], search: Union[Tensor, Sequence[Tensor]],
                soft_token_template_mask: Optional[Sequence[Tensor]], update_cls_token: Optional[Tensor] = None,
                training: bool = True, intermediates: Optional[Dict[str, Tensor]] = None,
                template_tokens: Optional[Tuple[Tensor, Tensor]] = None) -> Dict[str, Tensor]:
        """Stage-1 forward (docs/architecture.md); ``search`` is a tensor (inference) or a list (training).

        ``template_tokens`` (from :meth:`embed_templates`) replace ``template`` and the masks when given.
        ``update_cls_token`` and ``training`` are kept for call compatibility with the reference; the
        layout of ``search`` alone decides the path.
        """
        search, n_frames = self._stack_search(search)
        feat = self.forward_backbone(template, search, soft_token_template_mask, intermediates, template_tokens,
                                     repeats=n_frames)
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

    def _temporal_step(self, feat: Tensor, pos: Tensor, memory: List[Tensor], first_frame: FirstFrame,
                       per_sample: bool):
        """One frame of the temporal step (docs/architecture.md): attention map -> (init memory) -> fusion ->
        heads -> Gaussian -> memory update. ``first_frame``: for the whole batch or per row (B,)."""
        search_tokens = feat[:, -self.num_search_tokens:]
        att = search_attention_map(feat, self.num_search_tokens, per_sample=per_sample)
        if isinstance(first_frame, Tensor) or first_frame:
            # Quirk Q10: the first fusion sees 4 copies of this frame's own tokens, chosen without the prior.
            own = select_tokens(search_tokens, att, self.topk)
            memory = restart_memory(memory, own, first_frame, self.memory_slots)
        memory_pos = self.dy_template_pos_embed.weight.repeat_interleave(memory[0].shape[1], dim=0).unsqueeze(0)
        fused = self.temporal_fusion(feat, torch.cat(memory, dim=1), pos, memory_pos)
        out = self.forward_head(fused)
        gaussian = box_gaussian_prior(out["pred_boxes"], self.feat_sz)
        attn_xz = att + gaussian
        z0_filter = select_tokens(search_tokens, attn_xz, self.topk)
        out.update({"attn_xz": attn_xz, "gaussion_map": gaussian, "z0_filter": z0_filter})
        return out, update_memory(memory, z0_filter, first_frame, self.memory_slots)

    def forward(self, template: Optional[Sequence[Tensor]], search: Union[Tensor, Sequence[Tensor]],
                soft_token_template_mask: Optional[Sequence[Tensor]], update_cls_token: Optional[Tensor] = None,
                temporal_infor: Optional[List[Tensor]] = None, first_frame_flag: FirstFrame = False,
                training: bool = True, intermediates: Optional[Dict[str, Tensor]] = None,
                template_tokens: Optional[Tuple[Tensor, Tensor]] = None) -> Dict[str, Tensor]:
        """Stage-2 forward (docs/architecture.md).

        Training layout: ``search`` is a list of Ns frames (B, 6, H, W); the memory starts at frame 0
        and is carried through the clip. Inference: ``search`` is one tensor; the memory comes in as
        ``temporal_infor`` (list of slots, ignored when ``first_frame_flag``) and leaves under the
        output key ``temporal_infor`` (names kept from the reference, as are ``gaussion_map`` and
        ``z0_filter``). Outputs are concatenated over frames, time-major (row ``t * B + b``).

        Inference may track several sequences as one batch: ``first_frame_flag`` is then a (B,) bool
        tensor marking the rows whose memory starts now, and the attention map is normalised per
        sample (the reference's batch-wide normalisation, quirk Q7, is what training uses; at its
        inference batch of one the two are the same numbers).
        """
        per_sample = isinstance(search, Tensor)  # the inference layout
        search, n_frames = self._stack_search(search)
        feat = self.forward_backbone(template, search, soft_token_template_mask, intermediates, template_tokens,
                                     repeats=n_frames)
        pos = self.positional_table()
        batch = feat.shape[0] // n_frames
        memory = list(temporal_infor) if temporal_infor else []
        first: FirstFrame = True if not memory else first_frame_flag
        per_frame: List[Dict[str, Tensor]] = []
        for t in range(n_frames):
            out_t, memory = self._temporal_step(feat[t * batch:(t + 1) * batch], pos, memory,
                                                first if t == 0 else False, per_sample)
            per_frame.append(out_t)
        out = {key: torch.cat([o[key] for o in per_frame], dim=0)
               for key in ("pred_boxes", "score_map", "size_map", "offset_map", "confidence_pred", "attn_xz",
                           "gaussion_map")}
        out["task_res"] = self.task_cls(feat[:, 0])  # Q25: from the stage-3 class token, before fusion
        out["z0_filter"] = per_frame[-1]["z0_filter"]
        out["temporal_infor"] = memory
        return out
