using System.Text.Json;
using System.Text.Json.Serialization;
using MaaS.Core.Batching;

namespace MaaS.Core.Config;

/// <summary>Triton's <c>timeout_action</c>: the enum's name as protobuf JSON writes it, or its number.</summary>
internal sealed class TimeoutActionConverter : JsonConverter<TimeoutAction>
{
    public override TimeoutAction Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            switch (reader.GetString())
            {
                case "REJECT":
                    return TimeoutAction.Reject;
                case "DELAY":
                    return TimeoutAction.Delay;
            }
        }
        else if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number) && number is 0 or 1)
        {
            return number == 0 ? TimeoutAction.Reject : TimeoutAction.Delay;
        }

        throw new ConfigValueException("must be \"REJECT\" or \"DELAY\"");
    }

    public override void Write(Utf8JsonWriter writer, TimeoutAction value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value == TimeoutAction.Delay ? "DELAY" : "REJECT");
}
