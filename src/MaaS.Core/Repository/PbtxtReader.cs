using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace MaaS.Core.Repository;

/// <summary>
/// Reads Triton's config.pbtxt (protobuf text format of ModelConfig) into the JSON form of the same message, as
/// config.json holds it: field names as keys, enums as their names, repeated fields as arrays, maps as objects keyed
/// by the entry's key. Both list syntaxes (<c>dims: [1, 3]</c> and <c>dims: 1 dims: 3</c>), <c>field { }</c>,
/// <c>field: { }</c> and <c>field &lt; &gt;</c>, and optional <c>,</c>/<c>;</c> after a field are accepted. Fields are
/// checked against <see cref="PbtxtSchema"/>: one Triton does not have, a value of the wrong kind or a non-repeated
/// field given twice is an error naming the line and column.
/// </summary>
internal sealed class PbtxtReader
{
    public const string FileName = "config.pbtxt";

    private readonly PbtxtLexer _lexer;
    private PbtxtToken _token;

    private PbtxtReader(string text)
    {
        _lexer = new PbtxtLexer(text);
        _token = _lexer.Next();
    }

    /// <summary>The JSON form of <paramref name="pbtxt"/> (UTF-8); throws <see cref="ModelConfigException"/> with line and column.</summary>
    public static JsonObject Read(ReadOnlySpan<byte> pbtxt)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(pbtxt.StartsWith(Encoding.UTF8.Preamble) ? pbtxt[3..] : pbtxt);
        }
        catch (DecoderFallbackException ex)
        {
            throw new ModelConfigException($"{FileName} is not valid UTF-8", ex);
        }

        return new PbtxtReader(text).ReadFields(PbtxtSchema.Messages[PbtxtSchema.Root], PbtxtSchema.Root, closing: null);
    }

    internal static ModelConfigException Expected(int line, int column, string what) => new($"{FileName} line {line}, column {column}: expected {what}");

    private static ModelConfigException Expected(PbtxtToken at, string what) => Expected(at.Line, at.Column, what);

    private void Advance() => _token = _lexer.Next();

    private bool Accept(char symbol)
    {
        if (!_token.Is(symbol))
        {
            return false;
        }

        Advance();
        return true;
    }

    private JsonObject ReadFields(FrozenDictionary<string, PbtxtField> fields, string type, char? closing)
    {
        var result = new JsonObject();
        while (closing is null ? _token.Kind != PbtxtTokenKind.End : !_token.Is(closing.Value))
        {
            if (_token.Kind != PbtxtTokenKind.Identifier)
            {
                throw Expected(_token, closing is null ? $"a field name, not {_token.Describe()}" : $"a field name or '{closing}', not {_token.Describe()}");
            }

            var name = _token;
            if (!fields.TryGetValue(name.Text, out var field))
            {
                throw Expected(name, $"a field of {type} ({string.Join(", ", fields.Keys.Order(StringComparer.Ordinal))}), not '{name.Text}'");
            }

            Advance();
            var colon = Accept(':');
            if (field.Kind is not (PbtxtKind.Message or PbtxtKind.Map) && !colon)
            {
                throw Expected(_token, $"':' after '{field.Name}'");
            }

            if (_token.Is('['))
            {
                ReadList(result, field, name);
            }
            else
            {
                ReadValue(result, field, name);
            }

            _ = Accept(',') || Accept(';');
        }

        if (closing is not null)
        {
            Advance();
        }

        return result;
    }

    private void ReadList(JsonObject result, PbtxtField field, PbtxtToken name)
    {
        if (!field.Repeated && field.Kind != PbtxtKind.Map)
        {
            throw Expected(_token, $"one value for '{field.Name}', which is not a repeated field");
        }

        // An empty list still sets the field: `dims: []` is a rank-0 shape, not a missing one.
        if (field.Kind == PbtxtKind.Map)
        {
            ObjectField(result, field.Name);
        }
        else
        {
            ArrayField(result, field.Name);
        }

        Advance();
        if (Accept(']'))
        {
            return;
        }

        while (true)
        {
            ReadValue(result, field, name);
            if (Accept(']'))
            {
                return;
            }

            if (!Accept(','))
            {
                throw Expected(_token, $"',' or ']' in the list of '{field.Name}', not {_token.Describe()}");
            }
        }
    }

    private void ReadValue(JsonObject result, PbtxtField field, PbtxtToken name)
    {
        if (field.Kind == PbtxtKind.Map)
        {
            var (key, value) = ReadMapEntry(field);
            ObjectField(result, field.Name)[key] = value;
            return;
        }

        var node = field.Kind == PbtxtKind.Message ? (JsonNode)ReadMessage(field.Name, PbtxtSchema.Messages[field.Type!], field.Type!) : ReadScalar(field);
        if (field.Repeated)
        {
            ArrayField(result, field.Name).Add(node);
        }
        else if (!result.TryAdd(field.Name, node))
        {
            throw Expected(name, $"'{field.Name}' once; it is not a repeated field");
        }
    }

    private JsonObject ReadMessage(string name, FrozenDictionary<string, PbtxtField> fields, string type)
    {
        var open = _token;
        if (!open.Is('{') && !open.Is('<'))
        {
            throw Expected(open, $"'{{' to open '{name}', not {open.Describe()}");
        }

        Advance();
        return ReadFields(fields, type, open.Is('{') ? '}' : '>');
    }

    /// <summary>A map entry <c>{ key: K value: V }</c>, as protobuf writes maps in text format.</summary>
    private (string Key, JsonNode Value) ReadMapEntry(PbtxtField map)
    {
        var entryFields = new Dictionary<string, PbtxtField>(StringComparer.Ordinal)
        {
            ["key"] = new("key", map.MapKey),
            ["value"] = map.MapValue!,
        }.ToFrozenDictionary(StringComparer.Ordinal);
        var entry = ReadMessage(map.Name, entryFields, $"the map entry of '{map.Name}'");
        var key = entry["key"]?.ToString() ?? (map.MapKey == PbtxtKind.String ? "" : "0");
        var value = entry["value"];
        entry.Remove("value");
        return (key, value ?? (map.MapValue!.Kind == PbtxtKind.Message ? new JsonObject() : JsonValue.Create("")));
    }

    private JsonValue ReadScalar(PbtxtField field)
    {
        var at = _token;
        switch (field.Kind)
        {
            case PbtxtKind.String:
                if (at.Kind != PbtxtTokenKind.String)
                {
                    throw Expected(at, $"a quoted string for '{field.Name}', not {at.Describe()}");
                }

                var text = new StringBuilder();
                while (_token.Kind == PbtxtTokenKind.String)
                {
                    text.Append(_token.Text);
                    Advance();
                }

                return JsonValue.Create(text.ToString());
            case PbtxtKind.Bool:
                Advance();
                return at.Text switch
                {
                    "true" or "True" or "t" or "1" when at.Kind is PbtxtTokenKind.Identifier or PbtxtTokenKind.Number => JsonValue.Create(true),
                    "false" or "False" or "f" or "0" when at.Kind is PbtxtTokenKind.Identifier or PbtxtTokenKind.Number => JsonValue.Create(false),
                    _ => throw Expected(at, $"true or false for '{field.Name}', not {at.Describe()}"),
                };
            case PbtxtKind.Enum:
                var names = PbtxtSchema.Enums[field.Type!];
                Advance();
                if (at.Kind == PbtxtTokenKind.Identifier && Array.IndexOf(names, at.Text) >= 0)
                {
                    return JsonValue.Create(at.Text);
                }

                return at.Kind == PbtxtTokenKind.Number && int.TryParse(at.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number < names.Length
                    ? JsonValue.Create(names[number])
                    : throw Expected(at, $"one of {string.Join(", ", names)} for '{field.Name}', not {at.Describe()}");
            case PbtxtKind.Float:
                return ReadFloat(field);
            default:
                return ReadInteger(field);
        }
    }

    private JsonValue ReadInteger(PbtxtField field)
    {
        var negative = Accept('-');
        var at = _token;
        Advance();
        var (min, max, kind) = field.Kind switch
        {
            PbtxtKind.Int32 => ((Int128)int.MinValue, (Int128)int.MaxValue, "a 32-bit integer"),
            PbtxtKind.UInt32 => (Int128.Zero, (Int128)uint.MaxValue, "an unsigned 32-bit integer"),
            PbtxtKind.Int64 => ((Int128)long.MinValue, (Int128)long.MaxValue, "a 64-bit integer"),
            _ => (Int128.Zero, (Int128)ulong.MaxValue, "an unsigned 64-bit integer"),
        };
        if (at.Kind != PbtxtTokenKind.Number || !TryParseMagnitude(at.Text, out var magnitude))
        {
            throw Expected(at, $"{kind} for '{field.Name}', not {at.Describe()}");
        }

        var value = negative ? -(Int128)magnitude : magnitude;
        if (value < min || value > max)
        {
            throw Expected(at, $"{kind} for '{field.Name}'; {(negative ? "-" : "")}{at.Text} is out of range");
        }

        return field.Kind == PbtxtKind.UInt64 ? JsonValue.Create((ulong)value) : JsonValue.Create((long)value);
    }

    /// <summary>Decimal, hex (<c>0x1F</c>) or octal (<c>017</c>), as protobuf text format writes integers.</summary>
    private static bool TryParseMagnitude(string text, out ulong value)
    {
        value = 0;
        var (digits, radix) = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? (text[2..], 16)
            : text.Length > 1 && text[0] == '0' ? (text[1..], 8)
            : (text, 10);
        if (digits.Length == 0)
        {
            return false;
        }

        foreach (var c in digits)
        {
            var digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiHexDigit(c) ? char.ToLowerInvariant(c) - 'a' + 10 : radix;
            if (digit >= radix || value > (ulong.MaxValue - (ulong)digit) / (ulong)radix)
            {
                return false;
            }

            value = (value * (ulong)radix) + (ulong)digit;
        }

        return true;
    }

    /// <summary>A float; infinities and NaN are written as protobuf's JSON form writes them, as strings.</summary>
    private JsonValue ReadFloat(PbtxtField field)
    {
        var negative = Accept('-');
        var at = _token;
        Advance();
        var text = at.Text.TrimEnd('f', 'F');
        if (at.Kind == PbtxtTokenKind.Number && !text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            return JsonValue.Create(negative ? -number : number);
        }

        return at.Kind == PbtxtTokenKind.Identifier && at.Text.ToLowerInvariant() is "inf" or "infinity" or "nan"
            ? JsonValue.Create(at.Text.Equals("nan", StringComparison.OrdinalIgnoreCase) ? "NaN" : negative ? "-Infinity" : "Infinity")
            : throw Expected(at, $"a number for '{field.Name}', not {at.Describe()}");
    }

    private static JsonObject ObjectField(JsonObject parent, string name)
    {
        if (parent[name] is not JsonObject field)
        {
            field = [];
            parent[name] = field;
        }

        return field;
    }

    private static JsonArray ArrayField(JsonObject parent, string name)
    {
        if (parent[name] is not JsonArray field)
        {
            field = [];
            parent[name] = field;
        }

        return field;
    }
}
