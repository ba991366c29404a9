using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Config;

/// <summary>
/// Every integer of config.json that is a 64-bit integer in Triton's model_config.proto: protobuf's JSON form writes
/// int64/uint64 as strings (<c>"max_queue_delay_microseconds": "100"</c>), so a Triton config copied from its
/// <c>/config</c> route carries strings where a hand-written one carries numbers. Both are read; ranges are the
/// validator's business, which names the key.
/// </summary>
internal sealed class TritonIntegerConverter : JsonConverter<long>
{
    public override long Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number))
        {
            return number;
        }

        if (reader.TokenType == JsonTokenType.String
            && long.TryParse(reader.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
        {
            return parsed;
        }

        var raw = reader.HasValueSequence ? Encoding.UTF8.GetString(reader.ValueSequence) : Encoding.UTF8.GetString(reader.ValueSpan);
        var shown = reader.TokenType == JsonTokenType.String ? $"\"{raw}\"" : raw;
        throw new ConfigValueException($"must be a 64-bit integer, as a JSON number or a string of digits, not {shown}");
    }

    public override void Write(Utf8JsonWriter writer, long value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}
