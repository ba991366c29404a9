using System.Runtime.InteropServices;
using MaaS.Core.Explain;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;

namespace MaaS.Core.Pipelines;

/// <summary>
/// Explanations of an image-classification pipeline, per pixel of the model's input image (docs/explain.md, "Pipeline
/// models"): the images are decoded into the inner model's tensor as for inference, that tensor is explained as a
/// plain model's input (occlusion by default), and every evaluation is read through the pipeline's post-processing
/// (the softmax, when configured), so the explained number is the pipeline's score of a class.
/// </summary>
public sealed partial class ImageClassificationPipeline : IExplainablePipeline
{
    public PipelineExplanation PrepareExplanation(InferRequest request, ExplainParameters parameters, ModelSignature inner)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(inner);
        var geometry = _image.GeometryOf(inner);
        var explained = ExplainedParameters(parameters, geometry.Input);
        var source = SourceOf(inner);
        var images = ReadImages(request);
        var size = geometry.ImageFloats * sizeof(float);
#pragma warning disable CA2000 // the PipelineExplanation owns it; disposed here when building that fails
        var innerRequest = new InferRequest { Priority = request.Priority, TimeoutMicroseconds = request.TimeoutMicroseconds };
        var floats = TensorBuffer.Rent(images.Count * size);
#pragma warning restore CA2000
        try
        {
            innerRequest.Inputs.Add(new InferInput(geometry.Input, TensorDataType.Fp32, geometry.Shape(images.Count), floats));
        }
        catch
        {
            floats.Dispose();
            innerRequest.Dispose();
            throw;
        }

        try
        {
            for (var i = 0; i < images.Count; i++)
            {
                _image.Write(images[i].Span, i, geometry, MemoryMarshal.Cast<byte, float>(floats.Span.Slice(i * size, size)));
            }

            var layout = new ImageLayout(geometry.Nhwc ? "NHWC" : "NCHW", geometry.Channels, geometry.Height, geometry.Width);
            return new PipelineExplanation(
                innerRequest,
                explained,
                new ClassScores(source, _softmax),
                ClassificationOutput,
                ExplainTargetDefault.LargestElement,
                explanation => explanation with
                {
                    Attributions = [new Attribution(ImageInput, geometry.Shape(images.Count), explanation.Attributions.Single(a => a.Name == geometry.Input).Values)],
                    HeldFixed = [],
                    Image = layout,
                });
        }
        catch
        {
            innerRequest.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The request's parameters for the inner model's image tensor (occlusion unless asked otherwise; a baseline tensor
    /// given for <c>image</c> goes to that tensor); 400 for what does not apply to an image.
    /// </summary>
    private ExplainParameters ExplainedParameters(ExplainParameters parameters, string input)
    {
        if (parameters.Method == ExplainMethod.Tokens)
        {
            throw ServingException.Invalid($"model '{Name}' is an image pipeline: it is explained per pixel, with method \"occlusion\" (the default) or \"shapley\", not \"tokens\"");
        }

        if (parameters.TokenInputs.Count > 0 || parameters.MaskInput is not null || parameters.MaskValue != 0)
        {
            throw ServingException.Invalid($"model '{Name}' is an image pipeline: 'token_inputs', 'mask_input' and 'mask_value' do not apply");
        }

        if (parameters.TargetOutput is { } output && output != ClassificationOutput)
        {
            throw ServingException.Invalid($"unknown target output '{output}'; model '{Name}' has one output, '{ClassificationOutput}'");
        }

        var baselines = new Dictionary<string, (long[] Shape, double[] Data)>(StringComparer.Ordinal);
        foreach (var (name, baseline) in parameters.BaselineTensors)
        {
            baselines[name == ImageInput ? input
                : throw ServingException.Invalid($"baseline for unknown input '{name}'; model '{Name}' has one input, '{ImageInput}'")] = baseline;
        }

        return parameters with { Method = parameters.Method ?? ExplainMethod.Occlusion, TargetOutput = null, BaselineTensors = baselines };
    }

    /// <summary>The pipeline's scores of one evaluation: the inner model's row, through the softmax when configured.</summary>
    private sealed class ClassScores(string source, bool softmax) : ExplainReadout
    {
        public override string Output => source;

        public override double[] Row(InferRequest run, InferOutput output, int slot, int slots)
        {
            if (output.DataType != TensorDataType.Fp32 || output.Shape.Length != 2 || output.Shape[0] != slots)
            {
                throw new InvalidOperationException($"output '{source}' is {output.DataType.ToProtocolName()} {TensorShape.Format(output.Shape)}, not FP32 [{slots},classes]");
            }

            var classes = (int)output.Shape[1];
            var scores = new float[classes];
            MemoryMarshal.Cast<byte, float>(output.FixedData).Slice(slot * classes, classes).CopyTo(scores);
            if (softmax)
            {
                Softmax(scores);
            }

            return [.. scores.Select(score => (double)score)];
        }
    }
}
