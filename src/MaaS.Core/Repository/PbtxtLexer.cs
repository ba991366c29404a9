using System.Globalization;
using System.Text;

namespace MaaS.Core.Repository;

internal enum PbtxtTokenKind
{
    Identifier,
    Number,
    String,
    Symbol,
    End,
}

/// <summary>A token of protobuf text format; <paramref name="Text"/> is a string's decoded value, else the token as written.</summary>
internal readonly record struct PbtxtToken(PbtxtTokenKind Kind, string Text, int Line, int Column)
{
    public bool Is(char symbol) => Kind == PbtxtTokenKind.Symbol && Text[0] == symbol;

    public string Describe() => Kind switch
    {
        PbtxtTokenKind.End => "the end of the file",
        PbtxtTokenKind.String => "a string",
        _ => $"'{Text}'",
    };
}

/// <summary>
/// Splits protobuf text format into tokens: identifiers, numbers, strings (single or double quotes, C escapes,
/// decoded as UTF-8 bytes as protobuf does), the symbols <c>{ } [ ] &lt; &gt; : , ; -</c>, with <c>#</c> comments
/// skipped. Lines and columns count from 1.
/// </summary>
internal sealed class PbtxtLexer(string text)
{
    private int _position;
    private int _line = 1;
    private int _lineStart;

    public PbtxtToken Next()
    {
        SkipSpaceAndComments();
        var line = _line;
        var column = _position - _lineStart + 1;
        if (_position >= text.Length)
        {
            return new PbtxtToken(PbtxtTokenKind.End, "", line, column);
        }

        var c = text[_position];
        if (char.IsAsciiLetter(c) || c == '_')
        {
            return new PbtxtToken(PbtxtTokenKind.Identifier, Take(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'), line, column);
        }

        if (char.IsAsciiDigit(c) || (c == '.' && _position + 1 < text.Length && char.IsAsciiDigit(text[_position + 1])))
        {
            return new PbtxtToken(PbtxtTokenKind.Number, TakeNumber(), line, column);
        }

        if (c is '"' or '\'')
        {
            return new PbtxtToken(PbtxtTokenKind.String, ReadString(c, line, column), line, column);
        }

        if ("{}[]<>:,;-".Contains(c, StringComparison.Ordinal))
        {
            _position++;
            return new PbtxtToken(PbtxtTokenKind.Symbol, c.ToString(), line, column);
        }

        throw PbtxtReader.Expected(line, column, $"a field name, a value or one of {{ }} [ ] < > : , ; -, not '{c}'");
    }

    private void SkipSpaceAndComments()
    {
        while (_position < text.Length)
        {
            var c = text[_position];
            if (c == '#')
            {
                while (_position < text.Length && text[_position] != '\n')
                {
                    _position++;
                }
            }
            else if (c == '\n')
            {
                _position++;
                _line++;
                _lineStart = _position;
            }
            else if (char.IsWhiteSpace(c))
            {
                _position++;
            }
            else
            {
                return;
            }
        }
    }

    private string Take(Func<char, bool> accept)
    {
        var start = _position;
        while (_position < text.Length && accept(text[_position]))
        {
            _position++;
        }

        return text[start.._position];
    }

    /// <summary>Digits, letters (hex, exponent, an <c>f</c> suffix) and dots, with a sign right after an exponent.</summary>
    private string TakeNumber()
    {
        var start = _position;
        var hex = text.AsSpan(_position).StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        while (_position < text.Length)
        {
            var c = text[_position];
            var signOfExponent = !hex && c is '+' or '-' && text[_position - 1] is 'e' or 'E';
            if (!char.IsAsciiLetterOrDigit(c) && c != '.' && !signOfExponent)
            {
                break;
            }

            _position++;
        }

        return text[start.._position];
    }

    private string ReadString(char quote, int line, int column)
    {
        _position++;
        var bytes = new List<byte>();
        Span<byte> utf8 = stackalloc byte[4];
        while (true)
        {
            if (_position >= text.Length || text[_position] == '\n')
            {
                throw PbtxtReader.Expected(line, column, "a string that is closed on its line");
            }

            var c = text[_position];
            if (c == quote)
            {
                _position++;
                break;
            }

            if (c == '\\')
            {
                ReadEscape(bytes, line, column);
                continue;
            }

            Rune.DecodeFromUtf16(text.AsSpan(_position), out var rune, out var consumed);
            var written = rune.EncodeToUtf8(utf8);
            bytes.AddRange(utf8[..written]);
            _position += consumed;
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            throw PbtxtReader.Expected(line, column, "a string of valid UTF-8");
        }
    }

    private void ReadEscape(List<byte> bytes, int line, int column)
    {
        _position++;
        if (_position >= text.Length)
        {
            throw PbtxtReader.Expected(line, column, "a string that is closed on its line");
        }

        var c = text[_position++];
        switch (c)
        {
            case 'a': bytes.Add(7); break;
            case 'b': bytes.Add(8); break;
            case 'f': bytes.Add(12); break;
            case 'n': bytes.Add(10); break;
            case 'r': bytes.Add(13); break;
            case 't': bytes.Add(9); break;
            case 'v': bytes.Add(11); break;
            case '\\' or '\'' or '"' or '?': bytes.Add((byte)c); break;
            case >= '0' and <= '7':
                _position--;
                bytes.Add((byte)Convert.ToInt32(TakeAtMost(3, ch => ch is >= '0' and <= '7'), 8));
                break;
            case 'x' or 'X':
                bytes.Add(byte.Parse(Required(TakeAtMost(2, char.IsAsciiHexDigit), line, column), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                break;
            case 'u' or 'U':
                var digits = Required(TakeAtMost(c == 'u' ? 4 : 8, char.IsAsciiHexDigit), line, column);
                var code = int.Parse(digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (digits.Length != (c == 'u' ? 4 : 8) || !Rune.IsValid(code))
                {
                    throw PbtxtReader.Expected(line, column, "a \\u escape of 4 hex digits or \\U of 8 naming a Unicode character");
                }

                bytes.AddRange(Encoding.UTF8.GetBytes(new Rune(code).ToString()));
                break;
            default:
                throw PbtxtReader.Expected(_line, _position - _lineStart, $"a known escape, not '\\{c}'");
        }
    }

    private string TakeAtMost(int count, Func<char, bool> accept)
    {
        var start = _position;
        while (_position < text.Length && _position - start < count && accept(text[_position]))
        {
            _position++;
        }

        return text[start.._position];
    }

    private static string Required(string digits, int line, int column) =>
        digits.Length > 0 ? digits : throw PbtxtReader.Expected(line, column, "hex digits after \\x, \\u or \\U");
}
