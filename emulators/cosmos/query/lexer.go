package query

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokNumber
	tokString
	tokParam
	tokPunct
)

// token is one lexeme. text holds the identifier, the parameter name with
// its "@", the operator, or the unescaped string value.
type token struct {
	kind tokenKind
	text string
	num  float64
	pos  int
}

// puncts lists operators longest first, so the lexer takes the longest match.
// Many are lexed only so the parser can name them as unsupported.
var puncts = []string{
	"!=", "<>", "<=", ">=", "||", "??", "<<", ">>",
	"*", ",", ".", "(", ")", "[", "]", "{", "}", ":",
	"=", "<", ">", "+", "-", "/", "%", "?", "&", "|", "^", "~", "!",
}

type lexer struct {
	src string
	pos int
}

func lex(src string) ([]token, error) {
	l := &lexer{src: src}
	toks := make([]token, 0, len(src)/3+2) // about a token every 3 bytes: one allocation
	for {
		tok, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, tok)
		if tok.kind == tokEOF {
			return toks, nil
		}
	}
}

func (l *lexer) next() (token, error) {
	l.skipSpace()
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, pos: l.pos}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	switch {
	case isIdentStart(r):
		return l.ident(tokIdent, l.pos), nil
	case r == '@':
		return l.param()
	case r >= '0' && r <= '9':
		return l.number()
	case r == '\'' || r == '"':
		return l.str(byte(r))
	}
	for _, p := range puncts {
		if strings.HasPrefix(l.src[l.pos:], p) {
			tok := token{kind: tokPunct, text: p, pos: l.pos}
			l.pos += len(p)
			return tok, nil
		}
	}
	return token{}, errorAt(l.pos, "unexpected character %q", r)
}

// skipSpace skips white space and "--" line comments.
func (l *lexer) skipSpace() {
	for l.pos < len(l.src) {
		r, size := utf8.DecodeRuneInString(l.src[l.pos:])
		switch {
		case unicode.IsSpace(r):
			l.pos += size
		case strings.HasPrefix(l.src[l.pos:], "--"):
			end := strings.IndexByte(l.src[l.pos:], '\n')
			if end < 0 {
				l.pos = len(l.src)
				return
			}
			l.pos += end + 1
		default:
			return
		}
	}
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isIdentPart(r rune) bool { return isIdentStart(r) || unicode.IsDigit(r) }

func (l *lexer) ident(kind tokenKind, start int) token {
	for l.pos < len(l.src) {
		r, size := utf8.DecodeRuneInString(l.src[l.pos:])
		if !isIdentPart(r) {
			break
		}
		l.pos += size
	}
	return token{kind: kind, text: l.src[start:l.pos], pos: start}
}

func (l *lexer) param() (token, error) {
	start := l.pos
	l.pos++ // '@'
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	if l.pos >= len(l.src) || !isIdentPart(r) {
		return token{}, errorAt(start, "parameter name expected after \"@\"")
	}
	return l.ident(tokParam, start), nil
}

func (l *lexer) number() (token, error) {
	start := l.pos
	l.digits()
	if l.peekByte() == '.' {
		l.pos++
		l.digits()
	}
	if b := l.peekByte(); b == 'e' || b == 'E' {
		l.pos++
		if b := l.peekByte(); b == '+' || b == '-' {
			l.pos++
		}
		l.digits()
	}
	text := l.src[start:l.pos]
	n, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return token{}, errorAt(start, "invalid number %q", text)
	}
	return token{kind: tokNumber, text: text, num: n, pos: start}, nil
}

func (l *lexer) digits() {
	for b := l.peekByte(); b >= '0' && b <= '9'; b = l.peekByte() {
		l.pos++
	}
}

func (l *lexer) peekByte() byte {
	if l.pos < len(l.src) {
		return l.src[l.pos]
	}
	return 0
}

func (l *lexer) str(quote byte) (token, error) {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch c {
		case quote:
			l.pos++
			return token{kind: tokString, text: b.String(), pos: start}, nil
		case '\\':
			if err := l.escape(&b); err != nil {
				return token{}, err
			}
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return token{}, errorAt(start, "unterminated string")
}

var simpleEscapes = map[byte]byte{
	'\\': '\\', '\'': '\'', '"': '"', '/': '/',
	'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t',
}

// escape decodes the escape sequence at l.pos (which holds the backslash).
func (l *lexer) escape(b *strings.Builder) error {
	start := l.pos
	l.pos++
	if l.pos >= len(l.src) {
		return errorAt(start, "unterminated string")
	}
	if c, ok := simpleEscapes[l.src[l.pos]]; ok {
		b.WriteByte(c)
		l.pos++
		return nil
	}
	if l.src[l.pos] != 'u' {
		return errorAt(start, "invalid escape sequence %q", l.src[start:l.pos+1])
	}
	r, err := l.unicodeEscape(start)
	if err != nil {
		return err
	}
	b.WriteRune(r)
	return nil
}

// unicodeEscape decodes \uXXXX at start, joining a following low surrogate.
func (l *lexer) unicodeEscape(start int) (rune, error) {
	r, ok := l.hex4(start + 2)
	if !ok {
		return 0, errorAt(start, "invalid unicode escape")
	}
	l.pos = start + 6
	if !utf16.IsSurrogate(r) || !strings.HasPrefix(l.src[l.pos:], "\\u") {
		return r, nil
	}
	if r2, ok := l.hex4(l.pos + 2); ok {
		if joined := utf16.DecodeRune(r, r2); joined != unicode.ReplacementChar {
			l.pos += 6
			return joined, nil
		}
	}
	return r, nil
}

func (l *lexer) hex4(at int) (rune, bool) {
	if at+4 > len(l.src) {
		return 0, false
	}
	n, err := strconv.ParseUint(l.src[at:at+4], 16, 32)
	return rune(n), err == nil
}
