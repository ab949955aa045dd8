// Package secretstest provides made-up secrets of every kind package
// secrets finds, near misses it must not find, and helpers to plant them
// in memory, for the tests of the scanner, the session and the CLI.
//
// The secrets are built at run time from pieces (and from fixed seeds, so
// they are the same on every run), so that no source file holds a literal
// token that a repository's secret scanner would flag. None is valid
// anywhere.
package secretstest

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/rand/v2"
	"strings"
	"unicode/utf16"

	"github.com/crashbench/crashbench/core/secrets"
)

// Alphabets for Token.
const (
	Base32    = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	Alnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	Base64    = Alnum + "+/"
	Base64URL = Alnum + "-_"
)

// Token returns n characters drawn from alphabet, the same for the same
// seed. The first two are "Q7" (when n >= 2 and the alphabet has them) so
// that every token mixes a letter and a digit, as real ones do.
func Token(alphabet string, n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	if n >= 2 && strings.ContainsRune(alphabet, 'Q') && strings.ContainsRune(alphabet, '7') {
		b[0], b[1] = 'Q', '7'
	}
	return string(b)
}

// PEM returns a throwaway Ed25519 private key (from a fixed seed) in
// PKCS #8 PEM, without a final newline.
func PEM() string {
	key := ed25519.NewKeyFromSeed([]byte(strings.Repeat("crashbench-test!", 2)))
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err) // cannot happen for an Ed25519 key
	}
	return strings.TrimSuffix(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "\n")
}

// B64 is base64url without padding, as JWTs encode their parts.
func B64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// JWT returns an HS256-signed token (with a throwaway key) of the given
// header and payload JSON.
func JWT(header, payload string) string {
	signing := B64(header) + "." + B64(payload)
	mac := hmac.New(sha256.New, []byte("throwaway"))
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// UTF16LE encodes s as Windows stores strings.
func UTF16LE(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

// Case is a text holding one secret (Value, of Kind), or none (a near
// miss: Kind and Value are empty).
type Case struct {
	Name  string
	Text  string
	Kind  secrets.Kind
	Value string
}

// Secrets returns texts holding one secret each, every kind at least
// once, in the forms memory holds them (configuration files, environment
// variables, HTTP requests, JSON).
func Secrets() []Case {
	key := PEM()
	legacyBody := strings.Repeat(Token(Base64, 64, 1)+"\n", 5)
	legacy := "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n" +
		legacyBody + "-----END RSA PRIVATE KEY-----"
	noEnd := "-----BEGIN EC PRIVATE KEY-----\n" + strings.Repeat(Token(Base64, 64, 2)+"\n", 5)
	akia := "AK" + "IA" + Token(Base32, 16, 3)
	asia := "AS" + "IA" + Token(Base32, 16, 4)
	awsSecret := Token(Base64, 40, 5)
	google := "AI" + "za" + Token(Base64URL, 35, 6)
	ghp := "gh" + "p_" + Token(Alnum, 36, 7)
	gho := "gh" + "o_" + Token(Alnum, 36, 8)
	pat := "github" + "_pat_" + Token(Alnum, 22, 9) + "_" + Token(Alnum, 59, 10)
	slack := "xo" + "xb-" + "123456789012-1234567890123-" + Token(Alnum, 24, 11)
	azure := base64.StdEncoding.EncodeToString([]byte(Token(Alnum, 64, 12)))
	jwt := JWT(`{"alg":"HS256","typ":"JWT"}`, `{"sub":"1234567890","name":"Test User"}`)
	basic := base64.StdEncoding.EncodeToString([]byte("alice:" + Token(Alnum, 12, 13)))
	opaque := Token(Alnum, 32, 14)
	return []Case{
		{"pem pkcs8", "\x00\x01junk\n" + key + "\n\x00", secrets.PrivateKey, key},
		{"pem legacy encrypted", "x " + legacy + " y", secrets.PrivateKey, legacy},
		{"pem without END", "\x00" + noEnd + "\x00\x00", secrets.PrivateKey, strings.TrimSuffix(noEnd, "\n")},
		{"aws key id", "aws_access_key_id=" + akia + "\n", secrets.AWSAccessKey, akia},
		{"aws session key id", `"AccessKeyId": "` + asia + `"`, secrets.AWSAccessKey, asia},
		{"aws secret ini", "aws_secret_access_key = " + awsSecret + "\n", secrets.AWSSecretKey, awsSecret},
		{"aws secret env", "AWS_SECRET_ACCESS_KEY=" + awsSecret + "\x00", secrets.AWSSecretKey, awsSecret},
		{"aws secret json", `{"SecretAccessKey": "` + awsSecret + `"}`, secrets.AWSSecretKey, awsSecret},
		{"google api key", "key=" + google + "&q=1", secrets.GoogleAPIKey, google},
		{"github classic", "token " + ghp + "\n", secrets.GitHubToken, ghp},
		{"github oauth", "\x00" + gho + "\x00", secrets.GitHubToken, gho},
		{"github fine-grained", "GH_TOKEN=" + pat + "\n", secrets.GitHubToken, pat},
		{"slack bot", "SLACK=" + slack + " ", secrets.SlackToken, slack},
		{"azure storage", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + azure + ";EndpointSuffix=core.windows.net", secrets.AzureKey, azure},
		{"jwt", "token=" + jwt + "&x=1", secrets.JWT, jwt},
		{"url password", "DATABASE_URL=postgres://admin:S3cr3t-Pa55@db.internal:5432/app\x00", secrets.URLPassword, "S3cr3t-Pa55"},
		{"url password no user", "https://:tok3nValue9@git.example.net/repo.git", secrets.URLPassword, "tok3nValue9"},
		{"connection string", "Server=db01;Database=app;User Id=sa;Password=Tr0ub4dor!3;Encrypt=true", secrets.Password, "Tr0ub4dor!3"},
		{"connection string quoted", `Server=db01;Password="a;b c!9x";`, secrets.Password, "a;b c!9x"},
		{"odbc pwd braces", "DRIVER={SQL Server};UID=sa;PWD={p@ss;w0rd};", secrets.Password, "p@ss;w0rd"},
		{"pwd after separator", "uid=sa;pwd=hunter22;", secrets.Password, "hunter22"},
		{"env password", "\x00DB_PASSWORD=correct-horse-9\x00", secrets.Password, "correct-horse-9"},
		{"authorization basic", "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + basic + "\r\n\r\n", secrets.Authorization, basic},
		{"authorization json", `{"headers": {"Authorization": "token ` + opaque + `"}}`, secrets.Authorization, opaque},
		{"proxy authorization", "Proxy-Authorization: Basic " + basic + "\n", secrets.Authorization, basic},
		{"bearer", `curl -H "X-Api: Bearer ` + opaque + `" https://api`, secrets.BearerToken, opaque},
	}
}

// NearMisses returns texts that look like secrets at a glance but lack
// what makes one: the wrong length or alphabet, a placeholder, a header
// that does not decode, a public key.
func NearMisses() []Case {
	key := PEM()
	body := key[strings.Index(key, "\n")+1 : strings.LastIndex(key, "\n")]
	akia := "AK" + "IA"
	jwtSig := "." + Token(Base64URL, 43, 20)
	return []Case{
		{Name: "public key", Text: strings.ReplaceAll(key, "PRIVATE", "PUBLIC")},
		{Name: "pem short body", Text: "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----"},
		{Name: "pem END mismatched, short body", Text: "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----"},
		{Name: "pem label only", Text: "-----BEGIN PRIVATE KEY-----%s-----END PRIVATE KEY-----"},
		{Name: "aws id 15 chars", Text: " " + akia + Token(Base32, 15, 21) + " "},
		{Name: "aws id 17 chars", Text: " " + akia + Token(Base32, 17, 21) + " "},
		{Name: "aws id lower case", Text: " " + akia + strings.ToLower(Token(Base32, 16, 21)) + " "},
		{Name: "aws id inside a word", Text: "X" + akia + Token(Base32, 16, 21)},
		{Name: "aws documentation example", Text: " " + akia + "IOSFODNN7" + "EXAMPLE "},
		{Name: "aws secret 39 chars", Text: "aws_secret_access_key=" + Token(Base64, 39, 22) + "\n"},
		{Name: "aws secret 41 chars", Text: "aws_secret_access_key=" + Token(Base64, 41, 22) + "\n"},
		{Name: "aws secret without separator", Text: "aws_secret_access_key " + Token(Base64, 40, 22) + "\n"},
		{Name: "google key short", Text: " AI" + "za" + Token(Base64URL, 34, 23) + " "},
		{Name: "github short", Text: " gh" + "p_" + Token(Alnum, 35, 24) + " "},
		{Name: "github in a word", Text: "xgh" + "p_" + Token(Alnum, 36, 24)},
		{Name: "slack non-numeric team", Text: " xo" + "xb-abc-def-" + Token(Alnum, 24, 25) + " "},
		{Name: "slack short", Text: " xo" + "xb-1234 "},
		{Name: "azure short key", Text: "AccountKey=" + Token(Alnum, 20, 26) + ";"},
		{Name: "azure not base64", Text: "AccountKey=" + Token(Alnum, 87, 26) + ";"},
		{Name: "jwt header not json", Text: " eyJ" + Token(Base64URL, 30, 27) + "." + B64(`{"sub":"1"}`) + jwtSig},
		{Name: "jwt header without alg", Text: " " + B64(`{"typ":"JWT","kid":"k1"}`) + "." + B64(`{"sub":"1"}`) + jwtSig},
		{Name: "jwt payload not json", Text: " " + B64(`{"alg":"HS256"}`) + "." + Token(Base64URL, 20, 28) + jwtSig},
		{Name: "jwt short signature", Text: " " + B64(`{"alg":"HS256"}`) + "." + B64(`{"sub":"1"}`) + ".abc"},
		{Name: "jwt two parts", Text: " " + B64(`{"alg":"HS256"}`) + "." + B64(`{"sub":"1"}`) + " "},
		{Name: "url placeholder password", Text: "usage: https://user:password@host/path"},
		{Name: "url printf", Text: "https://%s:%s@%s/"},
		{Name: "url port, no userinfo", Text: "https://example.com:443/a@b"},
		{Name: "url user only", Text: "ssh://git@example.com/repo"},
		{Name: "url query colon", Text: "http://host/p?x=a:b@c"},
		{Name: "shell working directory", Text: "\x00PWD=/home/alice\x00OLDPWD=/tmp\x00"},
		{Name: "password printf", Text: "Server=%s;Password=%s;"},
		{Name: "password empty", Text: "Password=;User=x"},
		{Name: "password masked", Text: "Password=********;"},
		{Name: "password too short", Text: "Password=abc;"},
		{Name: "password in a word", Text: "mypassword=abcdefgh1"},
		{Name: "password template", Text: "Password={0};"},
		{Name: "authorization printf", Text: "Authorization: Basic %s\r\n"},
		{Name: "authorization no credentials", Text: "Authorization: Basic\r\n"},
		{Name: "authorization prose", Text: "Authorization: required"},
		{Name: "bearer prose", Text: "the bearer of this letter is a friend"},
		{Name: "bearer letters only", Text: "Bearer abcdefghijklmnopqrstuvwx "},
		{Name: "bearer printf", Text: "Bearer %s"},
	}
}

// Random returns n random bytes, the same for the same seed.
func Random(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// Planted is a secret written into memory: where its value lies.
type Planted struct {
	Case
	Addr     uint64 // the value's first byte
	Len      int    // the value's bytes in memory
	Encoding secrets.Encoding
}

// Plant writes c's text into mem (which starts at base) at off, between
// NUL bytes so that the bytes around cannot extend it, in ASCII or as
// UTF-16LE, and returns where its value is. It panics if the text does
// not fit.
func Plant(mem []byte, base uint64, off int, c Case, enc secrets.Encoding) Planted {
	text := []byte("\x00" + c.Text + "\x00")
	at := strings.Index(c.Text, c.Value) + 1
	width := 1
	if enc == secrets.UTF16LE {
		text, width = UTF16LE(string(text)), 2
	}
	if off < 0 || off+len(text) > len(mem) {
		panic("secretstest: plant does not fit")
	}
	copy(mem[off:], text)
	return Planted{Case: c, Addr: base + uint64(off+at*width), Len: len(c.Value) * width, Encoding: enc}
}
