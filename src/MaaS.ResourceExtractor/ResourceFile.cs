using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace MaaS.ResourceExtractor;

/// <summary>
/// An embedded (manifest) resource read by name. In a .NET assembly the CLI header's resources directory holds the
/// embedded resources; each manifest resource row names one and gives its offset in that directory, where a 4-byte
/// little-endian length precedes the bytes (ECMA-335 II.24.2.4 and II.22.24).
/// </summary>
internal static class ResourceFile
{
    public static void Extract(string assemblyPath, string resourceName, string outputPath, bool crlfToLf)
    {
        var (offset, length) = Locate(assemblyPath, resourceName);
        var directory = Path.GetDirectoryName(Path.GetFullPath(outputPath))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(outputPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var source = new FileStream(assemblyPath, FileMode.Open, FileAccess.Read, FileShare.Read))
            using (var destination = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                source.Position = offset;
                if (crlfToLf)
                {
                    WriteWithoutCarriageReturnsBeforeLineFeeds(source, length, destination);
                }
                else
                {
                    Copy(source, length, destination);
                }
            }

            File.Move(temporary, outputPath, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>The file offset and length of the resource's bytes.</summary>
    internal static (long Offset, long Length) Locate(string assemblyPath, string resourceName)
    {
        using var stream = new FileStream(assemblyPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata || pe.PEHeaders.CorHeader is null)
        {
            throw new BadImageFormatException($"{assemblyPath} is not a .NET assembly");
        }

        var metadata = pe.GetMetadataReader();
        var names = new List<string>();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            var name = metadata.GetString(resource.Name);
            // A resource with an implementation lives in another file or assembly, not in this one's resources directory.
            if (!resource.Implementation.IsNil || name != resourceName)
            {
                names.Add(name);
                continue;
            }

            if (!pe.PEHeaders.TryGetDirectoryOffset(pe.PEHeaders.CorHeader.ResourcesDirectory, out var directoryOffset))
            {
                throw new InvalidDataException($"{assemblyPath}: the resources directory is not in the file");
            }

            var start = directoryOffset + resource.Offset;
            stream.Position = start;
            Span<byte> prefix = stackalloc byte[4];
            stream.ReadExactly(prefix);
            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(prefix);
            if (start + 4 + length > stream.Length || start + 4 + length > directoryOffset + pe.PEHeaders.CorHeader.ResourcesDirectory.Size)
            {
                throw new InvalidDataException($"{assemblyPath}: resource '{resourceName}' ({length} bytes) runs past the resources directory");
            }

            return (start + 4, length);
        }

        throw new InvalidDataException($"{assemblyPath} has no embedded resource '{resourceName}'; it has: {string.Join(", ", names.Select(n => $"'{n}'"))}");
    }

    private static void Copy(Stream source, long length, Stream destination)
    {
        var buffer = new byte[81920];
        for (var left = length; left > 0;)
        {
            var read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0)
            {
                throw new EndOfStreamException("the assembly ended inside the resource");
            }

            destination.Write(buffer, 0, read);
            left -= read;
        }
    }

    private static void WriteWithoutCarriageReturnsBeforeLineFeeds(Stream source, long length, Stream destination)
    {
        if (length > 64 * 1024 * 1024)
        {
            throw new InvalidDataException($"a text resource of {length} bytes is too large to convert (at most 64 MiB)");
        }

        var bytes = new byte[length];
        source.ReadExactly(bytes);
        var output = new byte[length];
        var written = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\r' && i + 1 < bytes.Length && bytes[i + 1] == (byte)'\n')
            {
                continue;
            }

            output[written++] = bytes[i];
        }

        destination.Write(output, 0, written);
    }
}
