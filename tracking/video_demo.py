"""Track a target through your own pair of RGB and X sequences; write the box file and an annotated video.

    python tracking/video_demo.py --rgb rgb_frames/ --x thermal_frames/ \\
        --checkpoint output/quickstart/train/checkpoints/train/cstrack_s2/cstrack_s2_quickstart/CSTRACK_S2_ep0006.pth.tar \\
        --init 120,80,40,60 --out output/demo/mine.webm
    python tracking/video_demo.py --rgb color.mp4 --x depth_pngs/ --x_type depth \\
        --checkpoint CSTrack_s2.pth.tar --script cstrack_s2 --config cstrack_s2

--rgb / --x: folders of frames (ordered by the number in the file name) or video files, with the same
number of frames. X: thermal or event images, or 16-bit depth PNGs (converted to the JET colormap as the
RGB-D benchmarks do; --x_type auto detects them). Without --init a window asks for the first box (needs
an OpenCV build with a GUI and a display that answers; otherwise the demo stops with a message
asking for --init). The first box must lie in the first frame. The box file (--boxes, default: the
video path with .txt) holds one x,y,w,h line per frame, the first being the initial box. The video is
VP8 WebM (plays in browsers) unless --out names .mp4 (H.264 where OpenCV can write it, else mp4v) or .avi.
"""
import argparse
import logging
import sys

import _init_paths  # noqa: F401  (repository root on sys.path)

from lib.quickstart.demo import X_TYPES, DemoError, parse_box, run_demo


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--rgb", required=True, help="RGB frames: a folder of images or a video file")
    parser.add_argument("--x", required=True, help="X frames (thermal, event or 16-bit depth): a folder or a video")
    parser.add_argument("--checkpoint", required=True, help="tracker weights (.pth.tar)")
    parser.add_argument("--init", default=None, metavar="x,y,w,h",
                        help="the target's box in the first frame, in pixels (default: draw it in a window)")
    parser.add_argument("--out", default=None, help="annotated video, .webm, .mp4 or .avi "
                        "(default: output/demo/<rgb name>_cstrack.webm)")
    parser.add_argument("--boxes", default=None, help="box file (default: --out with the extension .txt)")
    parser.add_argument("--x_type", choices=X_TYPES, default="auto",
                        help="how X is converted (default auto: depth for 16-bit images, else thermal)")
    parser.add_argument("--script", default=None,
                        help="cstrack_s1 or cstrack_s2 (default: from the checkpoint, else cstrack_s2)")
    parser.add_argument("--config", default=None, help="experiment yaml name or path (default: the config stored "
                        "in the checkpoint, else experiments/<script>/<script>.yaml)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32",
                        help="network arithmetic: fp32 (default, the reference's), bf16 (GPUs, CPUs with native "
                        "bf16) or fp16 (GPUs); elsewhere fp32 with a notice")
    parser.add_argument("--fps", type=float, default=None, help="frame rate of the video (default: the input's, or 15)")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        init = parse_box(args.init) if args.init is not None else None
        result = run_demo(args.rgb, args.x, args.checkpoint, init=init, out=args.out, boxes_out=args.boxes,
                          x_type=args.x_type, script=args.script, config=args.config, device=args.device,
                          fps=args.fps, precision=args.precision)
    except DemoError as e:
        parser.exit(2, f"error: {e}\n")
    print(f"{result['frames']} frames tracked at {result['fps']:.1f} FPS (X = {result['x_type']}, {result['precision']})")
    print(f"boxes: {result['boxes']}")
    playable = "" if result["browser_playable"] else ", not playable in browsers"
    print(f"video: {result['video']} ({result['codec']}{playable})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
