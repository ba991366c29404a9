using System.Buffers.Text;
using System.Runtime.InteropServices;
using MaaS.Core.Config;
using MaaS.Core.Inference;
using MaaS.Core.Sessions;
using MaaS.Core.Tensors;

namespace MaaS.Core.Pipelines;

/// <summary>
/// An image-classification pipeline (docs/pipelines.md): PNG/JPEG images → the inner model's image tensor
/// (<see cref="ImageStep"/>) → its scores → optionally a softmax → the top k as classification strings
/// <c>score:index:label</c>, the classification extension's form. Immutable once loaded; safe to share between requests.
/// </summary>
public sealed partial class ImageClassificationPipeline : PipelineModel
{
    public const string ImageInput = "image";
    public const string ClassificationOutput = "classification";
    public const int DefaultTopK = 5;
    private const string DefaultLabels = "labels.txt";

    private readonly ImageStep _image;
    private readonly string? _source;
    private readonly bool _softmax;
    private readonly int _topK;
    private readonly IReadOnlyList<string>? _labels;

    private ImageClassificationPipeline(string name, PipelineConfig config, IReadOnlyList<string>? labels)
    {
        Name = name;
        InnerModel = config.InnerModel!;
        _image = new ImageStep(name, InnerModel, config.Image!);
        _source = config.Classification!.Source;
        _softmax = config.Classification.Softmax ?? false;
        _topK = config.Classification.TopK ?? DefaultTopK;
        _labels = labels;
    }

    public override string Name { get; }

    public override string InnerModel { get; }

    /// <summary>Most images one request may bring.</summary>
    public int MaxImages => _image.MaxImages;

    /// <summary>Reads the labels from the pipeline's directory: a configured file must exist, the default <c>labels.txt</c> may be absent.</summary>
    public static ImageClassificationPipeline Load(string name, string directory, PipelineConfig config)
    {
        var file = config.Classification!.Labels;
        var path = Path.Combine(directory, file ?? DefaultLabels);
        if (file is null && !File.Exists(path))
        {
            return new ImageClassificationPipeline(name, config, null);
        }

        try
        {
            return new ImageClassificationPipeline(name, config, File.ReadAllLines(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ServingException(FailureKind.NotReady, $"pipeline model '{name}' cannot read its labels {Path.GetFileName(path)}: {ex.Message}", ex);
        }
    }

    /// <summary>What V2 clients see: <c>image</c> (BYTES, one element per image) in, <c>classification</c> (BYTES [images, k]) out.</summary>
    public override ModelSignature SignatureFor(ModelSignature inner) => SignatureFor(_source, _topK, inner);

    /// <summary>The signature of a pipeline model of <paramref name="config"/> around <paramref name="inner"/>, without loading its steps.</summary>
    public static ModelSignature SignatureFor(PipelineConfig config, ModelSignature inner) =>
        SignatureFor(config.Classification?.Source, config.Classification?.TopK ?? DefaultTopK, inner);

    private static ModelSignature SignatureFor(string? source, int topK, ModelSignature inner)
    {
        var spec = source is null ? (inner.Outputs.Count == 1 ? inner.Outputs[0] : null) : inner.TryGetOutput(source, out var named) ? named : null;
        var classes = spec is { Dims.Length: > 0 } ? spec.Dims[^1] : -1;
        var k = classes > 0 ? Math.Min(topK, classes) : topK;
        return new ModelSignature(0, [new TensorSpec(ImageInput, TensorDataType.Bytes, [-1])], [new TensorSpec(ClassificationOutput, TensorDataType.Bytes, [-1, k])]);
    }

    /// <summary>
    /// Reads and decodes the images of a decoded V2 request for <paramref name="inner"/>: 400 for none, too many, or
    /// one that is not an image of a decoded format (nor base64 of one); 413 for one over the byte or pixel bound. Several images
    /// decode in parallel on the thread pool; a single one decodes here, as moving it would only add a thread hop.
    /// </summary>
    public async Task<ImageBatch> PrepareAsync(InferRequest request, ModelSignature inner, CancellationToken cancellationToken) =>
        await PrepareAsync(ReadImages(request), _image.GeometryOf(inner), cancellationToken);

    private async Task<ImageBatch> PrepareAsync(IReadOnlyList<ReadOnlyMemory<byte>> images, ImageGeometry geometry, CancellationToken cancellationToken)
    {
        var size = geometry.ImageFloats * sizeof(float);
#pragma warning disable CA2000 // the batch owns the buffer; disposed here when decoding fails
        var floats = TensorBuffer.Rent(images.Count * size);
#pragma warning restore CA2000
        try
        {
            if (images.Count == 1)
            {
                _image.Write(images[0].Span, 0, geometry, MemoryMarshal.Cast<byte, float>(floats.Span));
            }
            else
            {
                var options = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
                await Parallel.ForAsync(0, images.Count, options, (i, _) =>
                {
                    _image.Write(images[i].Span, i, geometry, MemoryMarshal.Cast<byte, float>(floats.Span.Slice(i * size, size)));
                    return ValueTask.CompletedTask;
                });
            }

            return new ImageBatch(images, geometry, floats);
        }
        catch
        {
            floats.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Classifies the images through <paramref name="inner"/>: in chunks of its batch size, all chunks at once (the
    /// dynamic batcher may join them with other requests); the answer is <c>classification</c>, as the request asked
    /// for it (JSON or binary).
    /// </summary>
    public async Task<InferResult> ClassifyAsync(ImageBatch batch, OnnxModel inner, InferRequest request, CancellationToken cancellationToken)
    {
        var geometry = _image.GeometryOf(inner.Signature);
        if (geometry != batch.Geometry)
        {
            // The inner model was loaded again with another input since the images were decoded: decode them for it.
            using var again = await PrepareAsync(batch.Images, geometry, cancellationToken);
            return await ClassifyAsync(again, inner, request, cancellationToken);
        }

        var source = SourceOf(inner.Signature);
        var parts = new List<Task<(float[] Scores, RunTimings Timings)>>();
        for (var start = 0; start < batch.Count; start += geometry.ChunkRows)
        {
            parts.Add(ScoreChunkAsync(batch, start, Math.Min(geometry.ChunkRows, batch.Count - start), inner, source, request, cancellationToken));
        }

        var chunks = await Task.WhenAll(parts);
        var classes = chunks[0].Scores.Length / Math.Min(geometry.ChunkRows, batch.Count);
        var scores = new float[batch.Count * classes];
        var offset = 0;
        foreach (var (chunk, _) in chunks)
        {
            chunk.CopyTo(scores, offset);
            offset += chunk.Length;
        }

        if (_softmax)
        {
            for (var row = 0; row < batch.Count; row++)
            {
                Softmax(scores.AsSpan(row * classes, classes));
            }
        }

        var (buffer, shape) = Classifier.Classify(TensorDataType.Fp32, MemoryMarshal.AsBytes(scores.AsSpan()), [batch.Count, classes], batched: true, _topK, _labels);
        var binary = request.Outputs.Count > 0 && request.Outputs[0].Binary;
        return new InferResult(NoValues.Instance, [new InferOutput(ClassificationOutput, TensorDataType.Bytes, shape, binary, null, buffer)])
        {
            Timings = RunTimings.Sum(chunks.Select(chunk => chunk.Timings)),
            ExecutedBatchSize = batch.Count,
        };
    }

    private List<ReadOnlyMemory<byte>> ReadImages(InferRequest request)
    {
        var input = request.FindInput(ImageInput, 0) ?? throw ServingException.Invalid($"input '{ImageInput}' is required");
        var data = (ReadOnlyMemory<byte>)input.Data.Memory;
        var rest = data.Span;
        var images = new List<ReadOnlyMemory<byte>>();
        while (!rest.IsEmpty)
        {
            var start = data.Length - rest.Length + 4;
            var element = BytesElements.ReadNext(ref rest);
            if (images.Count == MaxImages)
            {
                throw CountError(MaxImages + 1 + BytesElements.Count(rest));
            }

            images.Add(Encoded(data.Slice(start, element.Length), images.Count));
        }

        return images.Count == 0 ? throw CountError(0) : images;
    }

    /// <summary>The image bytes of an element: an image (<see cref="ImageFormats"/>) as it is, anything else read as base64 (a <c>data:</c> URL's prefix skipped).</summary>
    private ReadOnlyMemory<byte> Encoded(ReadOnlyMemory<byte> element, int index)
    {
        var bytes = element.Span;
        if (!ImageFormats.LooksLikeImage(bytes))
        {
            if (bytes.StartsWith("data:"u8) && bytes.IndexOf((byte)',') is var comma and >= 0)
            {
                bytes = bytes[(comma + 1)..];
            }

            // Checked before allocating: base64 of n bytes decodes to at most 3n/4, padding included.
            var decodedLength = Base64.GetMaxDecodedFromUtf8Length(bytes.Length);
            if (decodedLength > _image.MaxBytes + 2)
            {
                throw TooLarge(index, decodedLength);
            }

            var decoded = new byte[decodedLength];

            if (Base64.DecodeFromUtf8(bytes, decoded, out _, out var written) != System.Buffers.OperationStatus.Done)
            {
                throw ServingException.Invalid(
                    $"input '{ImageInput}' element {index} is neither a {ImageFormats.Names} image nor the base64 of one");
            }

            element = decoded.AsMemory(0, written);
        }

        return element.Length > _image.MaxBytes ? throw TooLarge(index, element.Length)
            : element.IsEmpty ? throw ServingException.Invalid($"input '{ImageInput}' element {index} is empty; expected a {ImageFormats.Names} image")
            : element;
    }

    private ServingException CountError(long count) =>
        ServingException.Invalid($"model '{Name}' takes 1 to {MaxImages} images per request, not {count}");

    private ServingException TooLarge(int index, long bytes) =>
        new(FailureKind.PayloadTooLarge, $"input '{ImageInput}' element {index} is {bytes} bytes; model '{Name}' takes at most {_image.MaxBytes} bytes per image (pipeline.image.max_bytes)");

    private string SourceOf(ModelSignature inner) =>
        _source ?? (inner.Outputs.Count == 1
            ? inner.Outputs[0].Name
            : throw new ServingException(
                FailureKind.NotReady,
                $"pipeline model '{Name}' does not fit its inner model '{InnerModel}': it has {inner.Outputs.Count} outputs; set pipeline.classification.source to the scores"));

    private async Task<(float[] Scores, RunTimings Timings)> ScoreChunkAsync(
        ImageBatch batch, int start, int rows, OnnxModel inner, string source, InferRequest original, CancellationToken cancellationToken)
    {
        var geometry = batch.Geometry;
        var size = geometry.ImageFloats * sizeof(float);
        using var request = new InferRequest { Priority = original.Priority, TimeoutMicroseconds = original.TimeoutMicroseconds };
#pragma warning disable CA2000 // the InferInput owns the (borrowed) buffer; the batch outlives the run
        request.Inputs.Add(new InferInput(geometry.Input, TensorDataType.Fp32, geometry.Shape(rows), TensorBuffer.BorrowOrCopy(batch.Floats.Memory.Slice(start * size, rows * size), sizeof(float))));
#pragma warning restore CA2000
        request.Outputs.Add(new RequestedOutput(source, Binary: false));
        using var result = await inner.RunAsync(request, cancellationToken);
        var scores = result.Outputs[0];
        if (scores.DataType != TensorDataType.Fp32 || scores.Shape.Length != 2 || scores.Shape[0] != rows)
        {
            throw new ServingException(
                FailureKind.NotReady,
                $"pipeline model '{Name}' does not fit its inner model '{InnerModel}': its output '{source}' is {scores.DataType.ToProtocolName()} {TensorShape.Format(scores.Shape)}, not FP32 [{rows}, classes]");
        }

        return (MemoryMarshal.Cast<byte, float>(scores.FixedData).ToArray(), result.Timings);
    }

    private static void Softmax(Span<float> row)
    {
        var max = float.NegativeInfinity;
        foreach (var value in row)
        {
            max = Math.Max(max, value);
        }

        double sum = 0;
        foreach (var value in row)
        {
            sum += Math.Exp(value - max);
        }

        for (var i = 0; i < row.Length; i++)
        {
            row[i] = (float)(Math.Exp(row[i] - max) / sum);
        }
    }

    private sealed class NoValues : IDisposable
    {
        public static readonly NoValues Instance = new();

        public void Dispose()
        {
        }
    }
}
