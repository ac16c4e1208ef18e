# scripts/get-data.sh without the internet: a loopback HTTP server (127.0.0.1, a free port) serves
# copies of MuseData.mat and Piano_midi.mat; the sets are fetched, checked and prepared, a second
# run leaves them alone, and a wrong checksum, a transfer cut short and a missing file each fail
# naming the file and leave nothing behind. Skips when ../shared/data lacks the .mat files.
source "$(dirname "$0")/lib/common.bash"
muse=$DATA/musedata/MuseData.mat
piano=$DATA/piano-midi-de/Piano_midi.mat
[[ -f $muse && -f $piano ]] || skip "no $muse or $piano (set CHORUS_SHARED_DATA)"
command -v python3 > /dev/null || skip "python3 is needed for the loopback HTTP server"
GET=$SRC/scripts/get-data.sh
export CHORUS

step "a loopback server: good/ the files, bad/ another file under MuseData.mat's name, cut/ a transfer cut short"
mkdir -p "$WORK/serve/good" "$WORK/serve/bad" "$WORK/serve/cut" "$WORK/offline"
cp "$muse" "$piano" "$WORK/serve/good/"
cp "$piano" "$WORK/serve/bad/MuseData.mat"
cp "$muse" "$WORK/serve/cut/"
cat > "$WORK/server.py" <<'EOF'
import functools, http.server, os, sys
root, port_file = sys.argv[1], sys.argv[2]
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_GET(self):
        if not self.path.startswith('/cut/'):
            return super().do_GET()
        data = open(os.path.join(root, self.path.lstrip('/')), 'rb').read()
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))  # announces it all, sends half
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=root))
open(port_file + '.tmp', 'w').write(str(server.server_address[1]))
os.rename(port_file + '.tmp', port_file)
server.serve_forever()
EOF
python3 "$WORK/server.py" "$WORK/serve" "$WORK/port" 2> "$WORK/server.log" &
server=$!
trap 'kill $server 2> /dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do [[ -s $WORK/port ]] && break; sleep 0.1; done
[[ -s $WORK/port ]] || { cat "$WORK/server.log" >&2; fail "the loopback server did not start"; }
url=http://127.0.0.1:$(cat "$WORK/port")

step "fetch, check and prepare two sets"
bash "$GET" musedata piano-midi --mirror "$url/good" --dest "$WORK/sets" > "$WORK/get.json" 2> "$WORK/get.log" \
  || { cat "$WORK/get.log" >&2; fail "get-data.sh musedata piano-midi"; }
[[ $(grep -c '"source_kind":"mat"' "$WORK/get.json") -eq 2 ]] || { cat "$WORK/get.json"; fail "two JSON summaries"; }
"$CHORUS" info "$WORK/sets/musedata.h5" > "$WORK/muse.json" 2> /dev/null
for want in '"train":{"frames":245202,"songs":524}' '"valid":{"frames":82755,"songs":135}' \
            '"test":{"frames":64339,"songs":124}' '"source":"MuseData.mat"'; do
  grep -qF "$want" "$WORK/muse.json" || { cat "$WORK/muse.json"; fail "musedata.h5 lacks $want"; }
done
"$CHORUS" info "$WORK/sets/piano-midi.h5" 2> /dev/null | grep -qF '"train":{"frames":75911,"songs":87}' \
  || fail "piano-midi.h5"
[[ $(ls -A "$WORK/sets" | sort | tr '\n' ' ') == "musedata.h5 piano-midi.h5 " ]] \
  || { ls -la "$WORK/sets"; fail "the output folder holds more than the two corpora"; }

step "again: up to date, nothing rewritten"
before=$(stat -c %Y.%i "$WORK/sets/musedata.h5")
bash "$GET" musedata --mirror "$url/none" --dest "$WORK/sets" > /dev/null 2> "$WORK/again.log" \
  || { cat "$WORK/again.log" >&2; fail "a second run"; }
grep -q "up to date" "$WORK/again.log" || { cat "$WORK/again.log" >&2; fail "no 'up to date'"; }
[[ $(stat -c %Y.%i "$WORK/sets/musedata.h5") == "$before" ]] || fail "musedata.h5 was rewritten"

step "offline: --from a folder"
bash "$GET" musedata --from "$WORK/serve/good" --dest "$WORK/offline" > /dev/null 2> "$WORK/offline.log" \
  || { cat "$WORK/offline.log" >&2; fail "--from"; }
[[ -s $WORK/offline/musedata.h5 ]] || fail "--from wrote no musedata.h5"

# expect_fail NAME PATTERN ARGS...: exit 1, the message matches, and the destination stays empty.
expect_fail() {
  local name=$1 pattern=$2; shift 2
  rm -rf "$WORK/$name"
  expect_exit 1 "$pattern" -- bash "$GET" musedata --dest "$WORK/$name" "$@"
  [[ -z $(ls -A "$WORK/$name") ]] || { ls -la "$WORK/$name" >&2; fail "$name: something was left behind"; }
}
step "a wrong checksum"
expect_fail bad "MuseData.mat: SHA-256 990a8a71.*expected e8d9eb42" --mirror "$url/bad"
step "a transfer cut short"
expect_fail cut "MuseData.mat: download of $url/cut/MuseData.mat failed" --mirror "$url/cut"
step "a missing file"
expect_fail missing "MuseData.mat: download of $url/none/MuseData.mat failed" --mirror "$url/none"
expect_fail missing-from "MuseData.mat: missing: no $WORK/offline/MuseData.mat" --from "$WORK/offline"

step "lyrics: where to get it and what to run; bad usage"
expect_exit 0 "kaggle.com/datasets/mousehead/songlyrics" -- bash "$GET" lyrics --dest "$WORK/lyrics"
grep -q "prepare lyrics --input songdata.csv --output $WORK/lyrics/lyrics.h5" "$WORK/err" || fail "the next command"
expect_exit 2 "unknown set or option 'beatles'" -- bash "$GET" beatles
expect_exit 2 "not both" -- bash "$GET" jsb --mirror "$url" --from "$WORK"
CHORUS=$WORK/absent expect_exit 1 "not an executable" -- bash "$GET" jsb --dest "$WORK/x"
echo "PASS" >&2
