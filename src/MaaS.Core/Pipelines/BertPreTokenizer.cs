using System.Globalization;
using Microsoft.ML.Tokenizers;

namespace MaaS.Core.Pipelines;

/// <summary>
/// BERT's basic split of a normalised text into words before WordPiece: at whitespace, and around every punctuation
/// character (ASCII's non-alphanumeric printable characters and Unicode's P* categories), each of which is a word of
/// its own. Every other character, symbols (°, €, ♥) included, stays in its word, as the reference tokenizer keeps it.
/// Microsoft.ML.Tokenizers' own BERT pre-tokenizer keeps only word characters and punctuation, so it drops symbols
/// ("25°c" becomes "25", "c") and keeps '_' inside words; this one is passed to it in their place.
/// </summary>
internal sealed class BertPreTokenizer : PreTokenizer
{
    public static BertPreTokenizer Instance { get; } = new();

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Split(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    private static List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var words = new List<(int Offset, int Length)>();
        var start = -1;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var space = char.IsWhiteSpace(c);
            var punctuation = !space && IsPunctuation(c);
            if (space || punctuation)
            {
                if (start >= 0)
                {
                    words.Add((start, i - start));
                    start = -1;
                }

                if (punctuation)
                {
                    words.Add((i, 1));
                }
            }
            else if (start < 0)
            {
                start = i;
            }
        }

        if (start >= 0)
        {
            words.Add((start, text.Length - start));
        }

        return words;
    }

    /// <summary>BERT's rule: every ASCII character that is neither a letter, a digit nor a space, and Unicode punctuation.</summary>
    private static bool IsPunctuation(char c) =>
        c is (>= '!' and <= '/') or (>= ':' and <= '@') or (>= '[' and <= '`') or (>= '{' and <= '~')
        || char.GetUnicodeCategory(c) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
}
