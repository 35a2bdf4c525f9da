"""The preparation report (``ROOT/prepare_report.json``) and the progress bar."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .extract import write_json


class Progress:
    """A bar over videos that shows frames written per second."""

    def __init__(self, total: int, desc: str):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=desc, unit="video")
        self.start, self.frames = time.monotonic(), 0

    def update(self, record: dict[str, Any]) -> None:
        self.frames += record.get("written", 0)
        rate = self.frames / max(time.monotonic() - self.start, 1e-9)
        self.bar.set_postfix_str(f"{rate:.1f} frames/s", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def record_fields(record: dict[str, Any]) -> dict[str, Any]:
    """What the report keeps of a video's record."""
    keys = ("status", "written", "faces", "sampled", "video_frames", "tracks", "crop_scale_spread", "error")
    return {key: record[key] for key in keys if key in record}


@dataclass
class Report:
    """Every setting; per video: status, frames written, frames whose face was found, face
    tracks and the spread of the crop's scale within a track; and the lists that need a look."""

    dataset: str
    root: str
    settings: dict[str, Any]
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: what the dataset's layout holds no video of (e.g. FF++ methods), and how to leave it out
    missing: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, record: dict[str, Any]) -> None:
        self.videos[name] = record_fields(record)

    def of(self, status: str) -> list[str]:
        return sorted(name for name, record in self.videos.items() if record["status"] == status)

    @property
    def no_face(self) -> list[str]:
        return sorted(name for name, r in self.videos.items() if r.get("sampled", r["written"]) and not r["faces"])

    @property
    def failed(self) -> dict[str, str]:
        return {name: r.get("error", "") for name, r in sorted(self.videos.items()) if r["status"] in ("failed", "truncated")}

    def summary(self) -> dict[str, Any]:
        counts = {status: len(self.of(status)) for status in ("extracted", "done", "failed", "truncated", "dropped")}
        sampled = sum(r.get("sampled", r["written"]) for r in self.videos.values())
        faces = sum(r["faces"] for r in self.videos.values())
        spreads = [r["crop_scale_spread"] for r in self.videos.values() if "crop_scale_spread" in r]
        return {"videos": len(self.videos), **counts, "frames_written": sum(r["written"] for r in self.videos.values()),
                "frames_sampled": sampled, "frames_with_face": faces, "no_face": len(self.no_face),
                "largest_crop_scale_spread": max(spreads, default=0.0)}

    def write(self, path: Path) -> None:
        record = {**asdict(self), "summary": self.summary(), "no_face": self.no_face, "dropped": self.of("dropped"), "failed": self.failed}
        write_json(path, record)

    def line(self, path: Path) -> str:
        s = self.summary()
        parts = [f"prepare {self.dataset}: {s['extracted']} videos extracted, {s['done']} already done",
                 f"faces found in {s['frames_with_face']} of {s['frames_sampled']} frames", f"{s['no_face']} videos with no face"]
        if s["dropped"]:
            parts.append(f"{s['dropped']} dropped below --min-face-rate")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return "; ".join(parts) + f" (report: {path})"
