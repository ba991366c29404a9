using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MaaS.Core.Repository;

namespace MaaS.Core.Config;

/// <summary>
/// Turns a typed read's failure into a message in config.json's words: the key's path and what its value must be,
/// worked out from the source-generated metadata of the record the path leads to (not from .NET type names).
/// </summary>
internal static class ConfigErrorText
{
    public static string Describe(JsonException exception)
    {
        var segments = Segments(exception.Path);
        var path = string.Concat(segments.Select((segment, i) => segment.StartsWith('[') || i == 0 ? segment : "." + segment));
        if (exception is ConfigValueException)
        {
            return $"config.json: {path} {exception.Message}";
        }

        return ExpectedAt(segments) is { } expected
            ? $"config.json: {path} must be {expected}"
            : $"config.json is not valid at {path}: {exception.Message}";
    }

    /// <summary>"$.a.b[0]['c.d']" as "a", "b", "[0]", "c.d".</summary>
    private static List<string> Segments(string? jsonPath)
    {
        var segments = new List<string>();
        var text = jsonPath ?? "$";
        var i = 1;
        while (i < text.Length)
        {
            if (text[i] == '.')
            {
                var end = text.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? text.Length : end;
                segments.Add(text[(i + 1)..end]);
                i = end;
            }
            else if (text.AsSpan(i).StartsWith("['"))
            {
                var end = text.IndexOf("']", i + 2, StringComparison.Ordinal);
                end = end < 0 ? text.Length : end;
                segments.Add(text[(i + 2)..end]);
                i = end + 2;
            }
            else
            {
                var end = text.IndexOf(']', i);
                end = end < 0 ? text.Length - 1 : end;
                segments.Add(text[i..(end + 1)]);
                i = end + 1;
            }
        }

        return segments;
    }

    private static string? ExpectedAt(List<string> segments)
    {
        JsonTypeInfo? info = RepositoryJsonContext.Default.ModelConfig;
        foreach (var segment in segments)
        {
            var next = info!.Kind switch
            {
                JsonTypeInfoKind.Object => info.Properties.FirstOrDefault(property => property.Name == segment)?.PropertyType,
                JsonTypeInfoKind.Enumerable or JsonTypeInfoKind.Dictionary => info.ElementType,
                _ => null,
            };
            info = next is null ? null : RepositoryJsonContext.Default.GetTypeInfo(next);
            if (info is null)
            {
                return null;
            }
        }

        return Describe(info!);
    }

    private static string? Describe(JsonTypeInfo info)
    {
        if (info.Kind is JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary)
        {
            return "a JSON object";
        }

        if (info.Kind == JsonTypeInfoKind.Enumerable)
        {
            var element = info.ElementType is { } type ? RepositoryJsonContext.Default.GetTypeInfo(type) : null;
            return element is null ? "an array" : $"an array of {Plural(element)}";
        }

        var scalar = Nullable.GetUnderlyingType(info.Type) ?? info.Type;
        return scalar == typeof(bool) ? "true or false"
            : scalar == typeof(string) ? "a string"
            : scalar == typeof(int) || scalar == typeof(long) ? "an integer"
            : null;
    }

    private static string Plural(JsonTypeInfo element) => Describe(element) switch
    {
        "a JSON object" => "JSON objects",
        "an integer" => "integers",
        "a string" => "strings",
        var other => $"values that are each {other}",
    };
}
