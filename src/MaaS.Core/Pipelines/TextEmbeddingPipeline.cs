using System.Runtime.InteropServices;
using System.Text;
using MaaS.Core.Config;
using MaaS.Core.Inference;
using MaaS.Core.Sessions;
using MaaS.Core.Tensors;
using Microsoft.ML.Tokenizers;

namespace MaaS.Core.Pipelines;

/// <summary>
/// A text-embedding pipeline (docs/pipelines.md): UTF-8 texts → BERT WordPiece ids → the inner model's token states →
/// the mean over real tokens, L2-normalised. The V2 route and <c>/v1/embeddings</c> both come through
/// <see cref="EmbedAsync"/>. Immutable once loaded; safe to share between requests.
/// </summary>
public sealed partial class TextEmbeddingPipeline : PipelineModel
{
    public const string TextInput = "text";
    public const string EmbeddingOutput = "embedding";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private const char AccentTableStart = '\u00C0';
    private const string AccentTable = "AAAAAA\u00C6CEEEEIIII\u00D0NOOOOO\u00D7\u00D8UUUUY\u00DE\u00DFaaaaaa\u00E6ceeeeiiii\u00F0nooooo\u00F7\u00F8uuuuy\u00FEyAaAaAaCcCcCcCcDd\u0110\u0111EeEeEeEeEeGgGgGgGgHh\u0126\u0127IiIiIiIiI\u0131\u0132\u0133JjKk\u0138LlLlLl\u013F\u0140\u0141\u0142NnNnNn\u0149\u014A\u014BOoOoOo\u0152\u0153RrRrRrSsSsSsSsTtTt\u0166\u0167UuUuUuUuUuUuWwYyYZzZzZz\u017F\u0180\u0181\u0182\u0183\u0184\u0185\u0186\u0187\u0188\u0189\u018A\u018B\u018C\u018D\u018E\u018F\u0190\u0191\u0192\u0193\u0194\u0195\u0196\u0197\u0198\u0199\u019A\u019B\u019C\u019D\u019E\u019FOo\u01A2\u01A3\u01A4\u01A5\u01A6\u01A7\u01A8\u01A9\u01AA\u01AB\u01AC\u01AD\u01AEUu\u01B1\u01B2\u01B3\u01B4\u01B5\u01B6\u01B7\u01B8\u01B9\u01BA\u01BB\u01BC\u01BD\u01BE\u01BF\u01C0\u01C1\u01C2\u01C3\u01C4\u01C5\u01C6\u01C7\u01C8\u01C9\u01CA\u01CB\u01CCAaIiOoUuUuUuUuUu\u01DDAaAa\u00C6\u00E6\u01E4\u01E5GgKkOoOo\u01B7\u0292j\u01F1\u01F2\u01F3Gg\u01F6\u01F7NnAa\u00C6\u00E6\u00D8\u00F8AaAaEeEeIiIiOoOoRrRrUuUuSsTt\u021C\u021DHh\u0220\u0221\u0222\u0223\u0224\u0225AaEeOoOoOoOoYy\u0234\u0235\u0236\u0237\u0238\u0239\u023A\u023B\u023C\u023D\u023E\u023F\u0240\u0241\u0242\u0243\u0244\u0245\u0246\u0247\u0248\u0249\u024A\u024B\u024C\u024D\u024E\u024F";

    private readonly BertTokenizer _tokenizer;
    private readonly int _maxLength;
    private readonly bool _normalize;
    private readonly bool _lowerCase;
    private readonly string _source;

    private TextEmbeddingPipeline(string name, PipelineConfig config, BertTokenizer tokenizer)
    {
        Name = name;
        InnerModel = config.InnerModel!;
        _tokenizer = tokenizer;
        _maxLength = config.Text!.MaxLength ?? 256;
        MaxTexts = config.Text.MaxTexts ?? 256;
        _normalize = config.Pooling!.Normalize ?? true;
        _lowerCase = config.Text.LowerCase ?? true;
        _source = config.Pooling.Source ?? "last_hidden_state";
    }

    public override string Name { get; }

    /// <summary>The model of the repository that runs the token ids.</summary>
    public override string InnerModel { get; }

    /// <summary>Most texts one request may bring.</summary>
    public int MaxTexts { get; }

    /// <summary>Reads the vocabulary from the pipeline's directory; a missing or unreadable file is a load error naming it.</summary>
    public static TextEmbeddingPipeline Load(string name, string directory, PipelineConfig config)
    {
        var vocab = Path.Combine(directory, config.Text!.Vocab ?? "vocab.txt");
        var lowerCase = config.Text.LowerCase ?? true;
        try
        {
            var tokenizer = BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = lowerCase, RemoveNonSpacingMarks = lowerCase, PreTokenizer = BertPreTokenizer.Instance });
            return new TextEmbeddingPipeline(name, config, tokenizer);
        }
        catch (IOException ex)
        {
            throw new ServingException(FailureKind.NotReady, $"pipeline model '{name}' cannot read its vocabulary {Path.GetFileName(vocab)}: {ex.Message}", ex);
        }
    }

    /// <summary>What V2 clients see: <c>text</c> (BYTES, one element per text) in, <c>embedding</c> (FP32 [texts, hidden]) out.</summary>
    public override ModelSignature SignatureFor(ModelSignature inner) => SignatureFor(_source, inner);

    /// <summary>The signature of a pipeline model of <paramref name="config"/> around <paramref name="inner"/>, without loading its steps.</summary>
    public static ModelSignature SignatureFor(PipelineConfig config, ModelSignature inner) =>
        SignatureFor(config.Pooling?.Source ?? "last_hidden_state", inner);

    private static ModelSignature SignatureFor(string source, ModelSignature inner)
    {
        var hidden = inner.TryGetOutput(source, out var spec) && spec.Dims.Length > 0 ? spec.Dims[^1] : -1;
        return new ModelSignature(0, [new TensorSpec(TextInput, TensorDataType.Bytes, [-1])], [new TensorSpec(EmbeddingOutput, TensorDataType.Fp32, [-1, hidden])]);
    }

    /// <summary>The texts of a decoded V2 request; 400 for bad UTF-8, none or too many.</summary>
    public IReadOnlyList<string> ReadTexts(InferRequest request)
    {
        var input = request.FindInput(TextInput, 0) ?? throw ServingException.Invalid($"input '{TextInput}' is required");
        var rest = (ReadOnlySpan<byte>)input.Data.Span;
        var texts = new List<string>();
        while (!rest.IsEmpty)
        {
            texts.Add(Decode(BytesElements.ReadNext(ref rest), texts.Count));
        }

        CheckCount(texts.Count);
        return texts;
    }

    /// <summary>400 unless 1 to <see cref="MaxTexts"/> texts.</summary>
    public void CheckCount(int count)
    {
        if (count == 0 || count > MaxTexts)
        {
            throw ServingException.Invalid($"model '{Name}' takes 1 to {MaxTexts} texts per request, not {count}");
        }
    }

    /// <summary>Token ids as the inner model receives them: [CLS] … [SEP], at most max_length.</summary>
    /// <remarks>
    /// An uncased BERT strips accents after decomposing (NFD), as the reference BasicTokenizer does; the tokenizer's
    /// own option leaves them, so "café" would become [UNK] instead of "cafe". Emoji and other characters beyond the
    /// BMP become [UNK] as in BERT (<see cref="SupplementaryCharacters"/>), and symbols stay in their words
    /// (<see cref="BertPreTokenizer"/>).
    /// </remarks>
    public IReadOnlyList<int> Tokenize(string text) =>
        _tokenizer.EncodeToIds(SupplementaryCharacters.Replace(_lowerCase ? StripAccents(text) : text), _maxLength, addSpecialTokens: true, out _, out _);

    private static string StripAccents(string text)
    {
        if (Ascii.IsValid(text))
        {
            return text;
        }

        // The server runs with invariant globalization (no ICU), where string.Normalize cannot decompose: the Latin
        // letters (U+00C0 to U+024F) map to their base letter by a table made from Unicode's NFD, and combining marks
        // (U+0300 to U+036F) are dropped, as is U+200B, a format character BERT drops too (it marks them here).
        return string.Create(text.Length, text, static (target, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                target[i] = c >= AccentTableStart && c < AccentTableStart + AccentTable.Length ? AccentTable[c - AccentTableStart]
                    : c is >= '\u0300' and <= '\u036F' ? '\u200B'
                    : c;
            }
        }).Replace("\u200B", string.Empty, StringComparison.Ordinal);
    }

    /// <summary>
    /// Embeds <paramref name="texts"/> through <paramref name="inner"/>: rows go in chunks of the inner model's batch size,
    /// each chunk padded to its longest text, all chunks at once (the dynamic batcher may join them with other requests).
    /// </summary>
    public async Task<TextEmbeddings> EmbedAsync(
        IReadOnlyList<string> texts, OnnxModel inner, long priority, long timeoutMicroseconds, CancellationToken cancellationToken)
    {
        CheckCount(texts.Count);
        var ids = new IReadOnlyList<int>[texts.Count];
        var tokens = 0;
        for (var i = 0; i < texts.Count; i++)
        {
            ids[i] = Tokenize(texts[i]);
            tokens += ids[i].Count;
        }

        var chunk = inner.Signature.MaxBatchSize > 0 ? inner.Signature.MaxBatchSize : texts.Count;
        var parts = new List<Task<(float[] Pooled, RunTimings Timings)>>();
        for (var start = 0; start < ids.Length; start += chunk)
        {
            parts.Add(EmbedChunkAsync(ids.AsMemory(start, Math.Min(chunk, ids.Length - start)), inner, priority, timeoutMicroseconds, cancellationToken));
        }

        var pooled = await Task.WhenAll(parts);
        var dimensions = pooled[0].Pooled.Length / Math.Min(chunk, ids.Length);
        var vectors = new float[texts.Count * dimensions];
        var offset = 0;
        foreach (var (part, _) in pooled)
        {
            part.CopyTo(vectors, offset);
            offset += part.Length;
        }

        return new TextEmbeddings(vectors, texts.Count, dimensions, tokens) { Timings = RunTimings.Sum(pooled.Select(part => part.Timings)) };
    }

    /// <summary>The V2 answer: <c>embedding</c>, as the request asked for it (JSON or binary).</summary>
    public static InferResult ToResult(TextEmbeddings embeddings, InferRequest request)
    {
        var binary = request.Outputs.Count > 0 && request.Outputs[0].Binary;
        var bytes = MemoryMarshal.AsBytes(embeddings.Vectors.AsSpan());
#pragma warning disable CA2000 // the result owns the buffer and disposes it
        var buffer = TensorBuffer.CopyOf(bytes);
#pragma warning restore CA2000
        var output = new InferOutput(EmbeddingOutput, TensorDataType.Fp32, [embeddings.Count, embeddings.Dimensions], binary, null, buffer);
        return new InferResult(NoValues.Instance, [output]) { Timings = embeddings.Timings, ExecutedBatchSize = embeddings.Count };
    }

    private static string Decode(ReadOnlySpan<byte> element, int index)
    {
        try
        {
            return StrictUtf8.GetString(element);
        }
        catch (DecoderFallbackException ex)
        {
            throw ServingException.Invalid($"input '{TextInput}' element {index} is not valid UTF-8 (bad byte at offset {ex.Index})");
        }
    }

    private async Task<(float[] Pooled, RunTimings Timings)> EmbedChunkAsync(
        ReadOnlyMemory<IReadOnlyList<int>> ids, OnnxModel inner, long priority, long timeoutMicroseconds, CancellationToken cancellationToken)
    {
        var rows = ids.Length;
        var length = 0;
        foreach (var row in ids.Span)
        {
            length = Math.Max(length, row.Count);
        }

        using var request = new InferRequest { Priority = priority, TimeoutMicroseconds = timeoutMicroseconds, PadsSequences = true };
        foreach (var spec in inner.Signature.Inputs)
        {
            request.Inputs.Add(TokenTensor(spec, ids.Span, length));
        }

        request.Outputs.Add(new RequestedOutput(_source, Binary: false));
        using var result = await inner.RunAsync(request, cancellationToken);
        var states = result.Outputs[0];
        // The dynamic batcher may have padded these rows to a longer request's length: the states are then
        // [rows, longer, hidden], and pooling reads each row's own tokens at that stride.
        if (states.DataType != TensorDataType.Fp32 || states.Shape.Length != 3 || states.Shape[0] != rows || states.Shape[1] < length)
        {
            throw new InvalidOperationException(
                $"pipeline model '{Name}': output '{_source}' of '{InnerModel}' is {states.DataType.ToProtocolName()} {TensorShape.Format(states.Shape)}, not FP32 [{rows},{length},hidden]");
        }

        return (Pool(MemoryMarshal.Cast<byte, float>(states.FixedData), ids.Span, (int)states.Shape[1], (int)states.Shape[2]), result.Timings);
    }

    /// <summary>Mean over the real tokens of each row (the padding is masked out), then L2 norm when configured.</summary>
    private float[] Pool(ReadOnlySpan<float> states, ReadOnlySpan<IReadOnlyList<int>> ids, int length, int hidden)
    {
        var pooled = new float[ids.Length * hidden];
        for (var row = 0; row < ids.Length; row++)
        {
            var target = pooled.AsSpan(row * hidden, hidden);
            var count = ids[row].Count;
            for (var token = 0; token < count; token++)
            {
                var state = states.Slice(((row * length) + token) * hidden, hidden);
                for (var h = 0; h < hidden; h++)
                {
                    target[h] += state[h];
                }
            }

            var norm = 0.0;
            for (var h = 0; h < hidden; h++)
            {
                target[h] /= count;
                norm += target[h] * target[h];
            }

            if (_normalize && norm > 0)
            {
                var scale = (float)(1 / Math.Sqrt(norm));
                for (var h = 0; h < hidden; h++)
                {
                    target[h] *= scale;
                }
            }
        }

        return pooled;
    }

    private InferInput TokenTensor(TensorSpec spec, ReadOnlySpan<IReadOnlyList<int>> ids, int length)
    {
        if (spec.DataType != TensorDataType.Int64)
        {
            throw new InvalidOperationException($"pipeline model '{Name}': input '{spec.Name}' of '{InnerModel}' is {spec.DataType.ToProtocolName()}, expected INT64");
        }

#pragma warning disable CA2000 // the InferInput owns the buffer
        var buffer = TensorBuffer.Rent(ids.Length * length * sizeof(long));
#pragma warning restore CA2000
        var values = MemoryMarshal.Cast<byte, long>(buffer.Span);
        values.Clear();
        for (var row = 0; row < ids.Length; row++)
        {
            var target = values.Slice(row * length, length);
            for (var token = 0; token < ids[row].Count; token++)
            {
                target[token] = spec.Name switch
                {
                    "input_ids" => ids[row][token],
                    "attention_mask" => 1,
                    "token_type_ids" => 0,
                    _ => throw new InvalidOperationException(
                        $"pipeline model '{Name}': the text step feeds input_ids, attention_mask and token_type_ids, not '{spec.Name}' of '{InnerModel}'"),
                };
            }
        }

        return new InferInput(spec.Name, TensorDataType.Int64, [ids.Length, length], buffer);
    }

    private sealed class NoValues : IDisposable
    {
        public static readonly NoValues Instance = new();

        public void Dispose()
        {
        }
    }
}
