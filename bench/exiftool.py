"""exiftool in one ``-stay_open`` batch process: the peer for metadata writing and reading."""

from __future__ import annotations

import subprocess
from pathlib import Path

CONFIG = """%Image::ExifTool::UserDefined = (
    'Image::ExifTool::XMP::Main' => {
        TC260 => { SubDirectory => { TagTable => 'Image::ExifTool::UserDefined::TC260' } },
    },
);
%Image::ExifTool::UserDefined::TC260 = (
    GROUPS => { 0 => 'XMP', 1 => 'XMP-TC260', 2 => 'Image' },
    NAMESPACE => { 'TC260' => 'http://www.tc260.org.cn/ns/AIGC/1.0/' },
    WRITABLE => 'string',
    AIGC => { },
);
1;
"""


class ExifTool:
    def __init__(self, workdir: Path) -> None:
        cfg = workdir / "tc260.config"
        cfg.write_text(CONFIG)
        self.proc = subprocess.Popen(
            ["exiftool", "-config", str(cfg), "-stay_open", "True", "-@", "-"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
        )

    def run(self, *args: str) -> str:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write("\n".join(args) + "\n-execute\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline()
            if line.strip() == "{ready}" or not line:
                return "".join(lines)
            lines.append(line)

    def write_label(self, src: Path, dst: Path, value: str) -> None:
        self.run(f"-XMP-TC260:AIGC={value}", "-o", str(dst), str(src))

    def read_label(self, path: Path) -> str:
        return self.run("-s3", "-XMP-TC260:AIGC", str(path)).strip()

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.write("-stay_open\nFalse\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=30)
