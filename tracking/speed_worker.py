"""One tracker timed frame by frame, driven over stdin/stdout by ``tracking/benchmark_speed.py``.

Run as a separate process so that the same frames can be tracked by this checkout and by an older
revision of the code (``PYTHONPATH`` names the tree to import ``lib`` from): the controller alternates
chunks of frames between the processes, so both see the same machine load. It uses only the tracker
API every revision has (``build_tracker``, ``initialize``, ``track``; ``new_sequence`` / ``step`` for
lockstep batches where the revision has them).

Protocol (one JSON object per line): the first line configures the tracker; then ``{"frames": k}``
tracks the next k frames and answers with their seconds; ``{"stop": true}`` answers with the peak
memory and ends.
"""
import json
import resource
import sys
import time


def main() -> int:
    import numpy as np
    import torch

    from lib.test.tracker import build_tracker

    setup = json.loads(sys.stdin.readline())
    torch.set_num_threads(setup["threads"])
    kwargs = {"precision": setup["precision"]} if setup["precision"] != "fp32" else {}
    tracker = build_tracker(setup["script"], checkpoint=setup["checkpoint"], dataset_name="lasher",
                            device=setup["device"], config=setup["config"], **kwargs)
    data = np.load(setup["frames"])
    frames, box, batch = data["frames"], data["box"].tolist(), setup["batch"]
    cuda = setup["device"].startswith("cuda")
    if batch == 1:
        tracker.initialize(frames[0], {"init_bbox": box})
    else:
        states = [tracker.new_sequence(frames[0], {"init_bbox": box}) for _ in range(batch)]
    position = 1
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("stop"):
            peak = torch.cuda.max_memory_allocated() / 2 ** 20 if cuda else \
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(json.dumps({"peak_mib": peak}), flush=True)
            return 0
        seconds = []
        for _ in range(request["frames"]):
            frame = frames[position % len(frames)]
            position += 1
            start = time.perf_counter()
            if batch == 1:
                tracker.track(frame)
            else:
                tracker.step(states, [frame] * batch)
            if cuda:
                torch.cuda.synchronize()
            seconds.append((time.perf_counter() - start) / batch)
        print(json.dumps({"seconds": seconds}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
