package secrets

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
)

// match is a detector's hit: the secret's bytes are [start, end) of the
// buffer searched.
type match struct {
	kind       Kind
	start, end int
	context    string
	utf16      bool // offsets are in the original buffer of UTF-16LE text
}

// detector finds one kind of secret: find is called at each occurrence of
// an anchor (at is its index) and checks the structure around it. The
// anchors of a case-insensitive (fold) detector are written in lower case.
// When find fails it may set the match's end to where the detector need
// not look again.
type detector struct {
	kind    Kind
	anchors []string
	fold    bool
	find    func(b []byte, at int) (match, bool)
}

var detectors = []detector{
	{PrivateKey, []string{"-----BEGIN "}, false, findPEM},
	{AWSSecretKey, []string{"aws_secret_access_key", "secretaccesskey"}, true, findAWSSecret},
	{AWSAccessKey, []string{"AKIA", "ASIA"}, false, findAWSKeyID},
	{GoogleAPIKey, []string{"AIza"}, false, findGoogleKey},
	{GitHubToken, []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, false, findGitHubToken},
	{SlackToken, []string{"xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"}, false, findSlackToken},
	{AzureKey, []string{"accountkey=", "sharedaccesskey="}, true, findAzureKey},
	{JWT, []string{"eyJ"}, false, findJWT},
	{URLPassword, []string{"://"}, false, findURLPassword},
	{Password, []string{"password=", "passwd=", "pwd="}, true, findPassword},
	{Authorization, []string{"authorization:", `authorization":`}, true, findAuthorization},
	{BearerToken, []string{"bearer "}, true, findBearer},
}

// priority is a kind's rank in Kinds: lower wins an overlap.
var priority = func() map[Kind]int {
	p := map[Kind]int{}
	for i, k := range Kinds() {
		p[k] = i
	}
	return p
}()

// anchor is one anchor of detectors[det].
type anchor struct {
	text string
	fold bool
	det  int
}

// anchorsByFirst lists the anchors by their first byte (both cases of it
// for a case-insensitive anchor), so that one pass over a buffer finds
// every anchor, where a bytes.Index per anchor would pass over it thirty
// times. anchorPairs is a bit set of the anchors' first two bytes (in
// every case for a case-insensitive one): most bytes of memory start no
// anchor, and one look at the set tells so.
var anchorsByFirst, anchorPairs = func() (t [256][]anchor, pairs [1 << 16 / 64]uint64) {
	cases := func(c byte, fold bool) []byte {
		if fold && isLower(c) {
			return []byte{c, c - 'a' + 'A'}
		}
		return []byte{c}
	}
	for d, det := range detectors {
		for _, a := range det.anchors {
			for _, c0 := range cases(a[0], det.fold) {
				t[c0] = append(t[c0], anchor{a, det.fold, d})
				for _, c1 := range cases(a[1], det.fold) {
					k := pair(c0, c1)
					pairs[k/64] |= 1 << (k % 64)
				}
			}
		}
	}
	return t, pairs
}()

func pair(a, b byte) int { return int(a) | int(b)<<8 }

// detectBuffers are reused from chunk to chunk.
type detectBuffers struct {
	narrow  []byte
	segs    []segment
	claimed []bool
	ms      []match
}

// detect returns the matches in buf, as bytes and as UTF-16LE text, with
// overlaps resolved in favour of the more specific kind.
func (w *detectBuffers) detect(buf []byte) []match {
	w.ms = runDetectors(w.ms[:0], buf, false)
	w.narrow, w.segs = narrowUTF16(w.narrow[:0], w.segs[:0], buf)
	if len(w.narrow) > 0 {
		n := len(w.ms)
		w.ms = runDetectors(w.ms, w.narrow, true)
		for i := n; i < len(w.ms); i++ {
			m := &w.ms[i]
			m.start, m.end = w.wide(m.start), w.wide(m.end-1)+2
		}
	}
	if len(w.ms) < 2 {
		return w.ms
	}
	// The most specific kind claims its bytes first; a match touching
	// claimed bytes is the same secret seen less precisely.
	slices.SortStableFunc(w.ms, func(a, b match) int {
		return cmp.Or(cmp.Compare(priority[a.kind], priority[b.kind]), cmp.Compare(a.start, b.start))
	})
	if cap(w.claimed) < len(buf) {
		w.claimed = make([]bool, len(buf))
	}
	claimed := w.claimed[:len(buf)]
	clear(claimed)
	kept := w.ms[:0]
	for _, m := range w.ms {
		if slices.Contains(claimed[m.start:m.end], true) {
			continue
		}
		for i := m.start; i < m.end; i++ {
			claimed[i] = true
		}
		kept = append(kept, m)
	}
	return kept
}

// runDetectors appends every detector's matches in b. A detector resumes
// after its own match, so it never reports overlapping hits of its kind.
func runDetectors(ms []match, b []byte, utf16 bool) []match {
	next := make([]int, len(detectors)) // per detector: where it may match again
	for i := 0; i+1 < len(b); i++ {
		if k := pair(b[i], b[i+1]); anchorPairs[k/64]&(1<<(k%64)) == 0 {
			continue
		}
		for _, a := range anchorsByFirst[b[i]] {
			if i < next[a.det] || !hasAnchor(b[i:], a) {
				continue
			}
			m, ok := detectors[a.det].find(b, i)
			if !ok {
				// A failed match may say how far it looked in vain
				// (m.end), so that a line of repeated anchors is not
				// searched again from each of them.
				next[a.det] = max(next[a.det], m.end)
				continue
			}
			m.kind, m.utf16 = detectors[a.det].kind, utf16
			ms = append(ms, m)
			next[a.det] = m.end
		}
	}
	return ms
}

func hasAnchor(b []byte, a anchor) bool {
	if !a.fold {
		return len(b) >= len(a.text) && string(b[:len(a.text)]) == a.text
	}
	return hasPrefixFold(b, a.text)
}

// hasPrefixFold reports whether b starts with lower, ignoring the case of
// ASCII letters; lower is in lower case.
func hasPrefixFold(b []byte, lower string) bool {
	if len(b) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		c := b[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// Character classes.

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool  { return 'a' <= c && c <= 'z' }
func isAlpha(c byte) bool  { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool  { return isAlpha(c) || isDigit(c) }
func isB64(c byte) bool    { return isAlnum(c) || c == '+' || c == '/' }
func isB64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }
func isWord(c byte) bool   { return isAlnum(c) || c == '_' }
func isGraph(c byte) bool  { return '!' <= c && c <= '~' }

// runOf returns the end of the run of bytes satisfying ok that starts at
// i, looking at most limit bytes ahead.
func runOf(b []byte, i, limit int, ok func(byte) bool) int {
	end := min(len(b), i+limit)
	j := i
	for j < end && ok(b[j]) {
		j++
	}
	return j
}

// before reports whether the byte before i satisfies ok (false at the
// start of b).
func before(b []byte, i int, ok func(byte) bool) bool { return i > 0 && ok(b[i-1]) }

// after reports whether the byte at i satisfies ok (false at the end).
func after(b []byte, i int, ok func(byte) bool) bool { return i < len(b) && ok(b[i]) }

// placeholder reports whether a candidate password or token is a
// template or example rather than a secret: "%s", "{0}", "${PASS}",
// "<password>", "****", "xxxx", the word "password" itself. Program
// images are full of such strings.
func placeholder(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	if bytes.ContainsAny(v, "{}<>") || bytes.Contains(v, []byte("$(")) {
		return true
	}
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && !(i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2])) {
			return true // a printf or FormatMessage verb, not %-encoding
		}
	}
	same := true
	for _, c := range v[1:] {
		same = same && c == v[0]
	}
	if same {
		return true
	}
	switch strings.ToLower(string(v)) {
	case "password", "passwd", "pass", "pwd", "secret", "token", "null", "none", "example":
		return true
	}
	return bytes.Contains(v, []byte("EXAMPLE")) || bytes.Contains(v, []byte("****")) ||
		bytes.Contains(bytes.ToLower(v), []byte("xxxx"))
}

func isHex(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }

// hasLetterAndDigit reports whether v mixes letters and digits, as
// generated tokens do and English words do not.
func hasLetterAndDigit(v []byte) bool {
	var l, d bool
	for _, c := range v {
		l = l || isAlpha(c)
		d = d || isDigit(c)
	}
	return l && d
}

// findPEM matches "-----BEGIN <label> PRIVATE KEY-----", its body and
// the matching END line. Without an END line (overwritten, or cut by
// unreadable memory) a long base64 body is still a key.
func findPEM(b []byte, at int) (match, bool) {
	i := at + len("-----BEGIN ")
	j := runOf(b, i, 48, func(c byte) bool { return isUpper(c) || isDigit(c) || c == ' ' })
	label := b[i:j]
	if !(bytes.HasSuffix(label, []byte("PRIVATE KEY")) || bytes.HasSuffix(label, []byte("PRIVATE KEY BLOCK"))) ||
		!bytes.HasPrefix(b[j:], []byte("-----")) {
		return match{}, false
	}
	end := []byte("-----END " + string(label) + "-----")
	limit := min(len(b), at+maxMatch)
	n64, bodyEnd, lineStart := 0, j+5, false
body:
	for p := j + 5; p < limit; p++ {
		c := b[p]
		switch {
		case c == '-':
			if bytes.HasPrefix(b[p:], end) && n64 >= 32 {
				return match{start: at, end: p + len(end), context: string(label)}, true
			}
			break body // a dash belongs to no body
		case lineStart && headerLine(b[p:min(limit, p+80)]):
			// RFC 1421 headers of a legacy encrypted key
			// ("Proc-Type: 4,ENCRYPTED", "DEK-Info: ...").
			for p < limit && b[p] != '\n' && (isGraph(b[p]) || b[p] == ' ' || b[p] == '\t' || b[p] == '\r') {
				p++
			}
			if p < limit && b[p] != '\n' {
				break body // not text: the key ends here
			}
			lineStart = true
		case isB64(c) || c == '=':
			n64++
			bodyEnd, lineStart = p+1, false
		case c == '\n':
			lineStart = true
		case c == '\r' || c == ' ' || c == '\t':
		default:
			break body
		}
	}
	if n64 >= 256 {
		return match{start: at, end: bodyEnd, context: string(label) + " (no END line)"}, true
	}
	return match{}, false
}

// headerLine reports whether line starts with "Name: ", a PEM header.
func headerLine(line []byte) bool {
	j := runOf(line, 0, 40, func(c byte) bool { return isAlnum(c) || c == '-' })
	return j > 0 && bytes.HasPrefix(line[j:], []byte(": "))
}

// findAWSKeyID matches AKIA or ASIA and 16 more upper-case letters or
// digits, as a word of its own.
func findAWSKeyID(b []byte, at int) (match, bool) {
	end := at + 20
	if before(b, at, isAlnum) || end > len(b) || runOf(b, at+4, 16, func(c byte) bool { return isUpper(c) || isDigit(c) }) != end ||
		after(b, end, isAlnum) || placeholder(b[at:end]) {
		return match{}, false
	}
	return match{start: at, end: end}, true
}

// findAWSSecret matches the 40-character secret access key assigned to
// aws_secret_access_key (a credentials file, an environment variable) or
// "SecretAccessKey" (STS's JSON).
func findAWSSecret(b []byte, at int) (match, bool) {
	i := at + len("secretaccesskey")
	if hasPrefixFold(b[at:], "aws_secret_access_key") {
		i = at + len("aws_secret_access_key")
	}
	sep := false
	j := runOf(b, i, 8, func(c byte) bool { return c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '=' || c == ':' })
	for _, c := range b[i:j] {
		sep = sep || c == '=' || c == ':'
	}
	end := j + 40
	if !sep || runOf(b, j, 40, isB64) != end || after(b, end, func(c byte) bool { return isB64(c) || c == '=' }) ||
		placeholder(b[j:end]) {
		return match{}, false
	}
	return match{start: j, end: end, context: string(b[at:i])}, true
}

// findGoogleKey matches AIza and 35 more characters of [A-Za-z0-9_-].
func findGoogleKey(b []byte, at int) (match, bool) {
	end := at + 39
	if before(b, at, isB64URL) || end > len(b) || runOf(b, at+4, 35, isB64URL) != end || after(b, end, isB64URL) {
		return match{}, false
	}
	return match{start: at, end: end}, true
}

// findGitHubToken matches the classic tokens (gh[pousr]_ and 36
// alphanumerics) and fine-grained ones (github_pat_ and 82 word
// characters; a range is allowed in case the format grows).
func findGitHubToken(b []byte, at int) (match, bool) {
	if before(b, at, isWord) {
		return match{}, false
	}
	if bytes.HasPrefix(b[at:], []byte("github_pat_")) {
		i := at + len("github_pat_")
		end := runOf(b, i, 120, isWord)
		if n := end - i; n < 70 || n >= 120 || !hasLetterAndDigit(b[i:end]) {
			return match{}, false
		}
		return match{start: at, end: end}, true
	}
	end := at + 4 + 36
	if end > len(b) || runOf(b, at+4, 36, isAlnum) != end || after(b, end, isWord) || !hasLetterAndDigit(b[at+4:end]) {
		return match{}, false
	}
	return match{start: at, end: end}, true
}

// findSlackToken matches xox[abprs]- and dash-separated parts, the first
// numeric: xoxb-<team>-<bot>-<secret>, xoxp-<team>-<user>-<id>-<secret>.
func findSlackToken(b []byte, at int) (match, bool) {
	if before(b, at, isAlnum) {
		return match{}, false
	}
	i := at + len("xoxb-")
	end := runOf(b, i, 200, func(c byte) bool { return isAlnum(c) || c == '-' })
	if end-i < 20 || end-i >= 200 || after(b, end, isWord) {
		return match{}, false
	}
	parts := bytes.Split(b[i:end], []byte("-"))
	if len(parts) < 3 || len(parts[0]) == 0 {
		return match{}, false
	}
	for _, c := range parts[0] {
		if !isDigit(c) {
			return match{}, false
		}
	}
	for _, p := range parts {
		if len(p) == 0 {
			return match{}, false
		}
	}
	return match{start: at, end: end}, true
}

// findAzureKey matches AccountKey= (storage) or SharedAccessKey=
// (Service Bus, Event Hubs) in a connection string and a base64 key.
func findAzureKey(b []byte, at int) (match, bool) {
	if before(b, at, isAlnum) {
		return match{}, false
	}
	i := bytes.IndexByte(b[at:], '=') + at + 1
	j := runOf(b, i, 200, isB64)
	end := runOf(b, j, 2, func(c byte) bool { return c == '=' })
	v := b[i:end]
	if j-i < 40 || j-i >= 200 || after(b, end, isB64) || len(v)%4 != 0 || placeholder(v) {
		return match{}, false
	}
	if _, err := base64.StdEncoding.DecodeString(string(v)); err != nil {
		return match{}, false
	}
	return match{start: i, end: end, context: string(b[at : i-1])}, true
}

// findJWT matches header.payload.signature in base64url whose header
// decodes to a JSON object with "alg" and whose payload decodes to a
// JSON object; the signature may be empty only for alg "none".
func findJWT(b []byte, at int) (match, bool) {
	if before(b, at, func(c byte) bool { return isB64URL(c) || c == '.' }) {
		return match{}, false
	}
	end := runOf(b, at, maxMatch, func(c byte) bool { return isB64URL(c) || c == '.' })
	parts := bytes.SplitN(b[at:end], []byte("."), 4)
	if len(parts) < 3 || len(parts[0]) < 10 || len(parts[0]) > 2048 || len(parts[1]) < 4 {
		return match{}, false
	}
	var header struct {
		Alg *string `json:"alg"`
	}
	if !decodeJSON(parts[0], &header) || header.Alg == nil {
		return match{}, false
	}
	var payload map[string]any
	if !decodeJSON(parts[1], &payload) {
		return match{}, false
	}
	if len(parts[2]) < 16 && !(len(parts[2]) == 0 && strings.EqualFold(*header.Alg, "none")) {
		return match{}, false
	}
	n := len(parts[0]) + len(parts[1]) + len(parts[2]) + 2
	return match{start: at, end: at + n, context: "alg " + *header.Alg}, true
}

// decodeJSON decodes a base64url part (padded or not) as JSON into v.
func decodeJSON(part []byte, v any) bool {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(string(part), "="))
	if err != nil || len(raw) == 0 || raw[0] != '{' {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// findURLPassword matches scheme://user:password@host and returns the
// password.
func findURLPassword(b []byte, at int) (match, bool) {
	s := at
	for s > 0 && at-s < 32 && (isAlnum(b[s-1]) || b[s-1] == '+' || b[s-1] == '.' || b[s-1] == '-') {
		s--
	}
	for s < at && !isAlpha(b[s]) {
		s++ // a scheme starts with a letter
	}
	if at-s < 2 || before(b, s, isAlnum) {
		return match{}, false
	}
	i := at + 3
	userinfo := func(c byte) bool {
		return isAlnum(c) || strings.IndexByte("-._~%!$&'()*+,;=:", c) >= 0
	}
	j := runOf(b, i, 256, userinfo)
	if !after(b, j, func(c byte) bool { return c == '@' }) {
		return match{}, false
	}
	colon := bytes.IndexByte(b[i:j], ':')
	if colon < 0 {
		return match{}, false
	}
	user, pass := b[i:i+colon], b[i+colon+1:j]
	h := runOf(b, j+1, 256, func(c byte) bool { return isAlnum(c) || c == '.' || c == '-' || c == '[' || c == ']' || c == ':' })
	host := bytes.TrimRight(b[j+1:h], ":")
	if len(pass) < 3 || len(host) == 0 || !isAlnum(host[0]) && host[0] != '[' || placeholder(pass) ||
		strings.EqualFold(string(user), string(pass)) {
		return match{}, false
	}
	context := string(b[s:at+3]) + string(user) + "@" + string(host)
	if len(user) == 0 {
		context = string(b[s:at+3]) + string(host)
	}
	return match{start: i + colon + 1, end: j, context: context}, true
}

// findPassword matches Password=, passwd= or pwd= in a connection string
// or key=value text and returns the value, bare, quoted or in ODBC
// braces.
func findPassword(b []byte, at int) (match, bool) {
	name := "pwd"
	switch {
	case hasPrefixFold(b[at:], "password="):
		name = "password"
	case hasPrefixFold(b[at:], "passwd="):
		name = "passwd"
	}
	if name == "pwd" {
		// PWD= is also the shell's working directory (and OLDPWD=):
		// only a separator may precede pwd=.
		if before(b, at, func(c byte) bool {
			return !(c == ';' || c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '?' || c == '&' || c == 0)
		}) {
			return match{}, false
		}
	} else if before(b, at, isAlnum) {
		return match{}, false
	}
	i := at + len(name) + 1
	var start, end int
	switch {
	case i < len(b) && (b[i] == '"' || b[i] == '\'' || b[i] == '{'):
		closer := b[i]
		if closer == '{' {
			closer = '}'
		}
		start = i + 1
		end = runOf(b, start, 129, func(c byte) bool { return c != closer && (isGraph(c) || c == ' ') })
		if !after(b, end, func(c byte) bool { return c == closer }) {
			return match{}, false
		}
	default:
		start = i
		end = runOf(b, start, 129, func(c byte) bool { return isGraph(c) && c != ';' && c != '&' && c != '"' && c != '\'' })
		if after(b, end, isGraph) && b[end] != ';' && b[end] != '&' && b[end] != '"' && b[end] != '\'' {
			return match{end: end}, false // ran past 128 characters: not a password
		}
	}
	v := b[start:end]
	if len(v) < 4 || len(v) > 128 || placeholder(v) || name == "pwd" && (v[0] == '/' || v[0] == '~') {
		return match{}, false
	}
	// The context is the whole key, "DB_PASSWORD" rather than "PASSWORD".
	k := at
	for k > 0 && at-k < 32 && (isWord(b[k-1]) || b[k-1] == '-' || b[k-1] == '.') {
		k--
	}
	return match{start: start, end: end, context: string(b[k : at+len(name)])}, true
}

// findAuthorization matches an Authorization (or Proxy-Authorization)
// header, "Authorization: <scheme> <credentials>" or the same as a JSON
// member, and returns the credentials.
func findAuthorization(b []byte, at int) (match, bool) {
	if before(b, at, isAlnum) {
		return match{}, false
	}
	i := at + len("authorization:")
	quoted := false
	if b[at+len("authorization")] == '"' {
		i, quoted = at+len(`authorization":`), true
	}
	i = runOf(b, i, 16, func(c byte) bool { return c == ' ' || c == '\t' || quoted && c == '"' })
	// The value runs to the end of the line (or of the JSON string).
	end := runOf(b, i, 4096, func(c byte) bool { return (isGraph(c) || c == ' ' || c == '\t') && !(quoted && c == '"') })
	if after(b, end, func(c byte) bool { return isGraph(c) || c == ' ' }) && !quoted {
		return match{end: end}, false // longer than any header value we expect
	}
	for end > i && (b[end-1] == ' ' || b[end-1] == '\t') {
		end--
	}
	sch := runOf(b, i, 32, func(c byte) bool { return isAlnum(c) || c == '-' })
	scheme, cred := "", i
	if sch > i && sch < end && b[sch] == ' ' { // a scheme, then credentials

		scheme, cred = string(b[i:sch]), sch+1
		for cred < end && b[cred] == ' ' {
			cred++
		}
	}
	v := b[cred:end]
	if len(v) < 8 || placeholder(v) || scheme == "" && (len(v) < 16 || !hasLetterAndDigit(v)) {
		return match{}, false
	}
	return match{start: cred, end: end, context: scheme}, true
}

// findBearer matches "Bearer <token>" (RFC 6750's b64token) where the
// token is long and mixes letters and digits, unlike prose ("bearer of").
func findBearer(b []byte, at int) (match, bool) {
	if before(b, at, isAlnum) {
		return match{}, false
	}
	i := runOf(b, at+len("bearer "), 8, func(c byte) bool { return c == ' ' }) // extra spaces
	tok := func(c byte) bool { return isAlnum(c) || strings.IndexByte("-._~+/", c) >= 0 }
	j := runOf(b, i, 4096, tok)
	end := runOf(b, j, 2, func(c byte) bool { return c == '=' })
	if j-i < 16 || j-i >= 4096 || after(b, end, tok) || !hasLetterAndDigit(b[i:j]) || placeholder(b[i:end]) {
		return match{}, false
	}
	return match{start: i, end: end, context: "Bearer"}, true
}
