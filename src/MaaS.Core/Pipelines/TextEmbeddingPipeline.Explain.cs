using System.Runtime.InteropServices;
using MaaS.Core.Explain;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;

namespace MaaS.Core.Pipelines;

/// <summary>
/// Explanations of a text-embedding pipeline, per token (docs/explain.md, "Pipeline models"): the texts are tokenised
/// as for inference, each token is masked in turn through the inner model's <c>attention_mask</c> (the input the text
/// step fills with the mask, as docs/pipelines.md says; the ids stay), and every evaluation is pooled with its own
/// mask, so the explained number is the pipeline's embedding: by default its cosine similarity to the embedding of the
/// text as sent, or one of its dimensions with <c>target.index</c>.
/// </summary>
public sealed partial class TextEmbeddingPipeline : IExplainablePipeline
{
    private const string IdsInput = "input_ids";
    private const string MaskInput = "attention_mask";

    public PipelineExplanation PrepareExplanation(InferRequest request, ExplainParameters parameters, ModelSignature inner)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(inner);
        CheckExplainable(parameters, inner);
        var texts = ReadTexts(request);
        var ids = new IReadOnlyList<int>[texts.Count];
        var length = 0;
        for (var i = 0; i < texts.Count; i++)
        {
            ids[i] = Tokenize(texts[i]);
            length = Math.Max(length, ids[i].Count);
        }

#pragma warning disable CA2000 // the PipelineExplanation owns it; disposed here when building that fails
        var innerRequest = new InferRequest { Priority = request.Priority, TimeoutMicroseconds = request.TimeoutMicroseconds };
#pragma warning restore CA2000
        try
        {
            foreach (var spec in inner.Inputs)
            {
                innerRequest.Inputs.Add(TokenTensor(spec, ids, length));
            }

            var tokens = TokenStrings(texts, ids);
            var explained = parameters with { Method = ExplainMethod.Tokens, TokenInputs = [IdsInput], MaskInput = MaskInput, TargetOutput = null };
            return new PipelineExplanation(
                innerRequest,
                explained,
                new PooledEmbedding(_source, _normalize),
                EmbeddingOutput,
                ExplainTargetDefault.CosineSimilarity,
                explanation => explanation with
                {
                    Attributions = [new Attribution(TextInput, [texts.Count, length], explanation.Attributions.Single(a => a.Name == IdsInput).Values)],
                    HeldFixed = [],
                    Tokens = tokens,
                });
        }
        catch
        {
            innerRequest.Dispose();
            throw;
        }
    }

    /// <summary>400 for what a per-token explanation of this pipeline cannot take; the pipeline itself says which input is which.</summary>
    private void CheckExplainable(ExplainParameters parameters, ModelSignature inner)
    {
        if (parameters.Method is { } method && method != ExplainMethod.Tokens)
        {
            throw ServingException.Invalid(
                $"model '{Name}' is a text pipeline: it is explained per token, with method \"tokens\" (the default), not \"{method.ToString().ToLowerInvariant()}\"");
        }

        if (parameters.TokenInputs.Count > 0 || parameters.MaskInput is not null || parameters.MaskValue != 0)
        {
            throw ServingException.Invalid(
                $"model '{Name}' is a pipeline: it says which of its inner model's inputs hold the tokens and the mask; leave out 'token_inputs', 'mask_input' and 'mask_value'");
        }

        if (parameters.BaselineValue != 0 || parameters.BaselineTensors.Count > 0)
        {
            throw ServingException.Invalid($"model '{Name}' masks tokens through the attention mask; 'baseline' does not apply");
        }

        if (parameters.TargetOutput is { } output && output != EmbeddingOutput)
        {
            throw ServingException.Invalid($"unknown target output '{output}'; model '{Name}' has one output, '{EmbeddingOutput}'");
        }

        if (!inner.TryGetInput(IdsInput, out _) || !inner.TryGetInput(MaskInput, out _))
        {
            throw ServingException.Invalid(
                $"model '{Name}' cannot be explained per token: its inner model '{InnerModel}' needs the inputs '{IdsInput}' and '{MaskInput}' (masking goes through the attention mask)");
        }
    }

    /// <summary>Each text's tokens as the vocabulary writes them ("[CLS]", "cat", "##s", "[SEP]").</summary>
    private List<string[]> TokenStrings(IReadOnlyList<string> texts, IReadOnlyList<int>[] ids)
    {
        var names = new Dictionary<int, string>
        {
            [_tokenizer.ClassificationTokenId] = _tokenizer.ClassificationToken,
            [_tokenizer.SeparatorTokenId] = _tokenizer.SeparatorToken,
            [_tokenizer.UnknownTokenId] = _tokenizer.UnknownToken,
        };
        var result = new List<string[]>(texts.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            foreach (var token in _tokenizer.EncodeToTokens(_lowerCase ? StripAccents(texts[i]) : texts[i], out _))
            {
                names.TryAdd(token.Id, token.Value);
            }

            result.Add([.. ids[i].Select(id => names.TryGetValue(id, out var name) ? name : $"[{id}]")]);
        }

        return result;
    }

    /// <summary>The pipeline's pooling applied to one evaluation: the mean of the token states its (perturbed) mask keeps, L2-normalised when configured.</summary>
    private sealed class PooledEmbedding(string source, bool normalize) : ExplainReadout
    {
        public override string Output => source;

        /// <remarks>A row with every token masked pools to the zero vector (its cosine similarity to anything is 0).</remarks>
        public override double[] Row(InferRequest run, InferOutput output, int slot, int slots)
        {
            if (output.DataType != TensorDataType.Fp32 || output.Shape.Length != 3 || output.Shape[0] != slots)
            {
                throw new InvalidOperationException($"output '{source}' is {output.DataType.ToProtocolName()} {TensorShape.Format(output.Shape)}, not FP32 [{slots},tokens,hidden]");
            }

            var length = (int)output.Shape[1];
            var hidden = (int)output.Shape[2];
            var states = MemoryMarshal.Cast<byte, float>(output.FixedData).Slice(slot * length * hidden, length * hidden);
            var mask = MemoryMarshal.Cast<byte, long>(run.FindInput(MaskInput, 1)!.Data.Span).Slice(slot * length, length);
            var pooled = new double[hidden];
            var count = 0;
            for (var t = 0; t < length; t++)
            {
                if (mask[t] == 0)
                {
                    continue;
                }

                count++;
                for (var h = 0; h < hidden; h++)
                {
                    pooled[h] += states[(t * hidden) + h];
                }
            }

            var norm = 0.0;
            for (var h = 0; h < hidden; h++)
            {
                pooled[h] = count == 0 ? 0 : pooled[h] / count;
                norm += pooled[h] * pooled[h];
            }

            if (normalize && norm > 0)
            {
                var scale = 1 / Math.Sqrt(norm);
                for (var h = 0; h < hidden; h++)
                {
                    pooled[h] *= scale;
                }
            }

            return pooled;
        }
    }
}
