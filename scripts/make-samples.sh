#!/usr/bin/env bash
# Remakes the sample media in samples/ that the README's first command
# transcribes: speech synthesised with espeak-ng (Debian package), muxed
# with the ffmpeg that ships in the npm install. Run it only to change the
# samples; the files it writes are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
ffmpeg=node_modules/@ffmpeg-installer/linux-x64/ffmpeg
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

espeak-ng -v en-us -s 160 -w "$tmp/welcome.wav" \
  "Welcome to durascribe. This short talk was made to show what the tool does. \
A batch of videos goes in, and one transcript per video comes out, with timestamps. \
If a machine stops halfway, the work that was finished is kept, and the rest starts again."
espeak-ng -v en-gb -s 150 -w "$tmp/durable.wav" \
  "Durable execution means that a long task survives a crash. \
Each step is written down before the next one begins. \
When the process comes back, it reads what was written and carries on from there."

# A video: a still frame and the speech, as H.264 and AAC in MP4.
"$ffmpeg" -hide_banner -loglevel error -y \
  -f lavfi -i color=c=0x1f3a5f:s=320x180:r=2 -i "$tmp/welcome.wav" \
  -map 0:v -map 1:a -shortest -c:v libx264 -preset veryslow -crf 40 \
  -pix_fmt yuv420p -c:a aac -b:a 32k -ac 1 -movflags +faststart \
  samples/welcome.mp4
# Audio only, as a podcast would be.
"$ffmpeg" -hide_banner -loglevel error -y -i "$tmp/durable.wav" \
  -c:a aac -b:a 32k -ac 1 samples/durable-execution.m4a
ls -l samples
