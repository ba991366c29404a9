using System.Buffers.Binary;
using System.Runtime.InteropServices;
using MaaS.Core.Config;
using MaaS.Core.Inference;
using MaaS.Core.Sessions;
using MaaS.Core.Tensors;

namespace MaaS.Core.Optimization;

// Buffers move into inputs and inputs into requests; the set disposes every request it holds.
#pragma warning disable CA2000

/// <summary>
/// The inputs both models run on to be compared, each one batch-1 request: the request's own <c>inputs</c> (split into
/// rows when the model batches), else the model's <c>model_warmup</c> samples (split the same way), else generated
/// from the input specs (<see cref="Generate"/>). At most <see cref="MaxRequests"/>.
/// </summary>
internal sealed class ValidationInputs : IDisposable
{
    /// <summary>Runs compared per model: bounds the time a request may make the server spend.</summary>
    public const int MaxRequests = 64;

    /// <summary>Generated samples: enough for a median and a spread of values, few enough to stay quick.</summary>
    public const int GeneratedCount = 8;

    /// <summary>The seed of generated samples: the same model gets the same inputs, so its report is reproducible.</summary>
    public const int Seed = 20240514;

    private ValidationInputs(string source, List<InferRequest> requests, string? generated = null)
    {
        Source = source;
        Requests = requests;
        Generated = generated;
    }

    /// <summary>"request", "warmup" or "generated".</summary>
    public string Source { get; }

    /// <summary>For generated inputs, how they were made; null otherwise.</summary>
    public string? Generated { get; }

    public List<InferRequest> Requests { get; }

    /// <summary>The request's V2 <c>inputs</c>, decoded and validated against the model like an infer request (400 otherwise).</summary>
    public static ValidationInputs FromRequest(byte[] inputsJson, ModelSignature signature)
    {
        var json = new byte[inputsJson.Length + 11];
        "{\"inputs\":"u8.CopyTo(json);
        inputsJson.CopyTo(json, 10);
        json[^1] = (byte)'}';
        var request = InferRequestReader.Read(json, ReadOnlyMemory<byte>.Empty, signature);
        foreach (var input in request.Inputs)
        {
            if (TensorShape.ElementCount(input.Shape) == 0)
            {
                request.Dispose();
                throw ServingException.Invalid($"validation input '{input.Name}' has shape {TensorShape.Format(input.Shape)}, which holds no elements");
            }
        }

        return new ValidationInputs("request", Rows([request], signature));
    }

    /// <summary>The model's configured warmup samples, or null when it has none.</summary>
    public static ValidationInputs? FromWarmup(List<WarmupSampleConfig>? warmup, ModelSignature signature, string modelPath)
    {
        if (warmup is not { Count: > 0 })
        {
            return null;
        }

        var samples = Warmup.FromConfig(warmup, signature, modelPath);
        return new ValidationInputs("warmup", Rows(samples.Select(sample => sample.Request).ToList(), signature));
    }

    /// <summary>
    /// <see cref="GeneratedCount"/> samples from <see cref="Random"/> seeded with <see cref="Seed"/>: batch 1; a
    /// variable dim (after the batch) is <paramref name="shape"/>.VariableDim; floating-point values uniform in [-1, 1);
    /// integers uniform in [0, IntegerBound) except for an input named like a mask (all ones, so no row is masked
    /// out entirely); booleans random; BYTES empty strings. A model without an implicit batch dim takes 1 for a
    /// variable first dim, as the batch.
    /// </summary>
    public static ValidationInputs Generate(ModelSignature signature, GeneratedShape shape)
    {
        var random = new Random(Seed);
        var requests = new List<InferRequest>(GeneratedCount);
        for (var i = 0; i < GeneratedCount; i++)
        {
            var request = new InferRequest();
            requests.Add(request);
            foreach (var spec in signature.Inputs)
            {
                var dims = spec.Dims.Select((dim, index) => dim >= 0 ? dim : signature.MaxBatchSize == 0 && index == 0 ? 1 : shape.VariableDim).ToArray();
                long[] full = signature.MaxBatchSize > 0 ? [1, .. dims] : dims;
                request.Inputs.Add(Fill(spec, full, random, shape.IntegerBound));
            }

            AddOutputs(request, signature);
        }

        return new ValidationInputs(
            "generated",
            requests,
            string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"seed {Seed}, batch 1, variable dims {shape.VariableDim}, floats uniform in [-1, 1), integers uniform in [0, {shape.IntegerBound}), inputs named *mask* all ones"));
    }

    public void Dispose()
    {
        foreach (var request in Requests)
        {
            request.Dispose();
        }
    }

    private static InferInput Fill(TensorSpec spec, long[] shape, Random random, int integerBound)
    {
        var count = (int)TensorShape.ElementCount(shape);
        if (spec.DataType == TensorDataType.Bytes)
        {
            var empty = TensorBuffer.Rent(count * 4);
            empty.Span.Clear();
            return new InferInput(spec.Name, spec.DataType, shape, empty);
        }

        var buffer = TensorBuffer.Rent(count * spec.DataType.ElementSize());
        var bytes = buffer.Span;
        var mask = spec.Name.Contains("mask", StringComparison.OrdinalIgnoreCase);
        for (var i = 0; i < count; i++)
        {
            var value = mask ? 1 : random.Next(integerBound);
            var real = random.NextDouble() * 2 - 1;
            switch (spec.DataType)
            {
                case TensorDataType.Fp32: MemoryMarshal.Write(bytes[(i * 4)..], (float)real); break;
                case TensorDataType.Fp64: MemoryMarshal.Write(bytes[(i * 8)..], real); break;
                case TensorDataType.Fp16: MemoryMarshal.Write(bytes[(i * 2)..], (Half)real); break;
                case TensorDataType.Bf16: BinaryPrimitives.WriteUInt16LittleEndian(bytes[(i * 2)..], HalfPrecision.ToBFloat16Bits((float)real)); break;
                case TensorDataType.Bool: bytes[i] = (byte)(mask ? 1 : random.Next(2)); break;
                case TensorDataType.Int8 or TensorDataType.UInt8: bytes[i] = (byte)value; break;
                case TensorDataType.Int16 or TensorDataType.UInt16: BinaryPrimitives.WriteInt16LittleEndian(bytes[(i * 2)..], (short)value); break;
                case TensorDataType.Int32 or TensorDataType.UInt32: BinaryPrimitives.WriteInt32LittleEndian(bytes[(i * 4)..], value); break;
                default: BinaryPrimitives.WriteInt64LittleEndian(bytes[(i * 8)..], value); break;
            }
        }

        return new InferInput(spec.Name, spec.DataType, shape, buffer);
    }

    /// <summary>
    /// Each request's rows as batch-1 requests (a model without an implicit batch dim runs each request whole), at most
    /// <see cref="MaxRequests"/> (400 past it). Disposes <paramref name="requests"/>.
    /// </summary>
    private static List<InferRequest> Rows(List<InferRequest> requests, ModelSignature signature)
    {
        var rows = new List<InferRequest>();
        try
        {
            foreach (var request in requests)
            {
                var count = signature.RowsOf(request);
                if (rows.Count + count > MaxRequests)
                {
                    throw ServingException.Invalid($"the validation inputs hold more than {MaxRequests} rows; send at most {MaxRequests}");
                }

                if (signature.MaxBatchSize == 0 || count == 1)
                {
                    var whole = new InferRequest();
                    rows.Add(whole);
                    foreach (var input in request.Inputs)
                    {
                        whole.Inputs.Add(new InferInput(input.Name, input.DataType, input.Shape, TensorBuffer.CopyOf(input.Data.Span)));
                    }

                    AddOutputs(whole, signature);
                    continue;
                }

                for (var row = 0; row < count; row++)
                {
                    var single = new InferRequest();
                    rows.Add(single);
                    foreach (var input in request.Inputs)
                    {
                        single.Inputs.Add(Row(input, row, (int)count));
                    }

                    AddOutputs(single, signature);
                }
            }

            return rows;
        }
        catch
        {
            rows.ForEach(row => row.Dispose());
            throw;
        }
        finally
        {
            requests.ForEach(request => request.Dispose());
        }
    }

    /// <summary>Row <paramref name="row"/> of a batched input, as a batch-1 input (BYTES elements walked by their length prefixes).</summary>
    private static InferInput Row(InferInput input, int row, int rows)
    {
        long[] shape = [1, .. input.Shape[1..]];
        ReadOnlySpan<byte> data = input.Data.Span;
        if (input.DataType != TensorDataType.Bytes)
        {
            var rowBytes = data.Length / rows;
            return new InferInput(input.Name, input.DataType, shape, TensorBuffer.CopyOf(data.Slice(row * rowBytes, rowBytes)));
        }

        var perRow = TensorShape.ElementCount(shape);
        var start = data;
        for (long i = 0; i < perRow * row; i++)
        {
            BytesElements.ReadNext(ref start);
        }

        var end = start;
        for (long i = 0; i < perRow; i++)
        {
            BytesElements.ReadNext(ref end);
        }

        return new InferInput(input.Name, input.DataType, shape, TensorBuffer.CopyOf(start[..(start.Length - end.Length)]));
    }

    private static void AddOutputs(InferRequest request, ModelSignature signature)
    {
        request.Outputs.Clear();
        foreach (var output in signature.Outputs)
        {
            request.Outputs.Add(new RequestedOutput(output.Name, Binary: true));
        }
    }
}

/// <summary>How generated validation inputs are sized and valued: the size of variable dims, and integers drawn from [0, IntegerBound).</summary>
internal sealed record GeneratedShape(int VariableDim, int IntegerBound)
{
    /// <summary>
    /// Tried in order until the source model accepts the first sample: token-id-like integers in [0, 100) over 8
    /// positions; then [0, 2) (a small vocabulary, token type ids); then 1 position; then zeros. A model whose embedding
    /// table or fixed internal dims refuse the wider inputs still gets compared.
    /// </summary>
    public static IReadOnlyList<GeneratedShape> Attempts { get; } = [new(8, 100), new(8, 2), new(1, 2), new(1, 1)];
}
#pragma warning restore CA2000
