#!/usr/bin/env bash
# A synthesised two-party Mandarin service call for `huashu bench --audio`: 14 lines read by espeak-ng
# (cmn-latn-pinyin, tone-numbered pinyin), agent on the left channel, customer on the right, 0.8 s between
# turns, padded to 60 s, 16 kHz 16-bit stereo. Its reference transcript is call-zh.txt (same lines, in order).
#   benches/audio/synth-call.sh OUT.wav
set -euo pipefail
out="${1:?usage: synth-call.sh OUT.wav}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
lines=(
  "C|ni3 hao3, wo3 de5 ding4 dan1 zen3 me5 hai2 mei2 dao4?"
  "A|nin2 hao3, qing3 wen4 nin2 de5 ding4 dan1 hao4 shi4 duo1 shao3?"
  "C|ding4 dan1 hao4 shi4 yi1 er4 san1 si4 wu3 liu4."
  "A|hao3 de5, wo3 bang1 nin2 cha2 yi2 xia4, qing3 shao1 deng3."
  "C|wo3 yi3 jing1 deng3 le5 yi2 ge4 xing1 qi1 le5."
  "A|fei1 chang2 bao4 qian4, nin2 de5 bao1 guo3 hai2 zai4 lu4 shang4."
  "C|na4 shen2 me5 shi2 hou4 neng2 dao4?"
  "A|zhe4 bu2 shi4 wo3 de5 wen4 ti2, wo3 bu4 zhi1 dao4."
  "C|ni3 men5 de5 fu2 wu4 tai4 cha4 le5, wo3 yao4 tui4 kuan3."
  "A|tui4 kuan3 xu1 yao4 san1 dao4 wu3 ge4 gong1 zuo4 ri4."
  "C|hao3 ba5, qing3 jin3 kuai4 chu3 li3."
  "A|hao3 de5, hai2 you3 shen2 me5 ke3 yi3 bang1 nin2 de5 ma5?"
  "C|mei2 you3 le5, xie4 xie5."
  "A|gan3 xie4 nin2 de5 lai2 dian4, zai4 jian4."
)
sox -n -r 16000 -c 1 -b 16 "$work/gap.wav" trim 0 0.8
left=("$work/gap.wav") right=("$work/gap.wav")
i=0
for l in "${lines[@]}"; do
  who="${l%%|*}" text="${l#*|}"
  espeak-ng -v cmn-latn-pinyin -s 150 -w "$work/raw$i.wav" "$text"
  sox "$work/raw$i.wav" -r 16000 -c 1 -b 16 "$work/say$i.wav"
  sox "$work/say$i.wav" "$work/quiet$i.wav" vol 0
  if [ "$who" = A ]; then left+=("$work/say$i.wav"); right+=("$work/quiet$i.wav")
  else left+=("$work/quiet$i.wav"); right+=("$work/say$i.wav"); fi
  left+=("$work/gap.wav"); right+=("$work/gap.wav")
  i=$((i + 1))
done
sox "${left[@]}" "$work/left.wav"
sox "${right[@]}" "$work/right.wav"
sox -M "$work/left.wav" "$work/right.wav" "$work/call.wav"
len="$(soxi -D "$work/call.wav")"
pad="$(python3 -c "print(max(0.0, 60.0 - $len))")"
sox "$work/call.wav" "$out" pad 0 "$pad" trim 0 60
