namespace MaaS.ResourceExtractor;

/// <summary>
/// Writes one embedded resource of a .NET assembly to a file, found by its name in the assembly's metadata:
/// <c>MaaS.ResourceExtractor &lt;assembly&gt; &lt;resource&gt; &lt;output&gt; [--lf]</c>. <c>--lf</c> turns CRLF line ends
/// into LF (text resources). The output is written to a temporary file beside it and moved into place, so a reader
/// (a server polling the repository, a parallel build) never sees half a file. Exit code 0: written; 1: the assembly
/// or resource is unusable (the message says why); 2: bad arguments.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length is < 3 or > 4 || (args.Length == 4 && args[3] != "--lf"))
        {
            Console.Error.WriteLine("usage: MaaS.ResourceExtractor <assembly> <resource> <output> [--lf]");
            return 2;
        }

        try
        {
            ResourceFile.Extract(args[0], args[1], args[2], crlfToLf: args.Length == 4);
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException or InvalidDataException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
