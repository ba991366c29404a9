using System.Text;

namespace MaaS.Core.Pipelines;

/// <summary>
/// Characters outside the Basic Multilingual Plane (most emoji, CJK extensions B and later) before WordPiece
/// tokenisation. Microsoft.ML.Tokenizers' BERT tokenizer drops them (a surrogate on its own reads as a control
/// character), so "I love 🍕" would tokenise as "I love". The reference BERT tokenizer keeps such a character as part
/// of a word and, as it is in no vocabulary we serve, makes that word [UNK]. Each one is therefore replaced by U+A4D0
/// (LISU LETTER BA), a letter of a script no BERT vocabulary covers, which the tokenizer keeps and turns into [UNK]
/// the same way: alone or glued to a word ("pizza🍕" is one [UNK]). U+200D (ZERO WIDTH JOINER), which joins emoji into
/// one (a family: man, woman, girl), is dropped, as BERT drops every format character, where the tokenizer would split
/// the sequence at it into several [UNK].
/// </summary>
internal static class SupplementaryCharacters
{
    private const char StandIn = '\uA4D0';
    private const char ZeroWidthJoiner = '\u200D';

    public static string Replace(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF') && !text.Contains(ZeroWidthJoiner, StringComparison.Ordinal))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == ZeroWidthJoiner)
            {
                continue;
            }

            if (!char.IsSurrogate(c))
            {
                builder.Append(c);
                continue;
            }

            builder.Append(StandIn);
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
        }

        return builder.ToString();
    }
}
