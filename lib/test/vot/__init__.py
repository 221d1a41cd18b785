"""VOT toolkit integration for the RGB-D benchmarks (DepthTrack, VOT-RGBD2022).

``run_vot`` is the TraX tracker the workspaces start (``python -m lib.test.vot.run_vot``);
``prepare_dataset`` writes the ``sequence`` / ``list.txt`` metadata the toolkit needs to use a local
dataset instead of downloading one; ``evaluate`` runs ``vot evaluate`` with a run identity
(``docs/evaluation.md``).
"""
