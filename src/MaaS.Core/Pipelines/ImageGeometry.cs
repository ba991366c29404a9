namespace MaaS.Core.Pipelines;

/// <summary>Where the images go: the inner model's input, its layout, channels, height and width, and the most images per run.</summary>
internal sealed record ImageGeometry(string Input, bool Nhwc, int Channels, int Height, int Width, int ChunkRows)
{
    /// <summary>Floats per image.</summary>
    public int ImageFloats => Channels * Height * Width;

    /// <summary>The shape of <paramref name="rows"/> images.</summary>
    public long[] Shape(int rows) => Nhwc ? [rows, Height, Width, Channels] : [rows, Channels, Height, Width];
}
