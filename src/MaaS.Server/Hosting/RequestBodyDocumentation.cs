namespace MaaS.Server.Hosting;

/// <summary>
/// Documents the body of an endpoint that reads its body raw. (Accepts() would also make routing demand a
/// Content-Type, and tritonclient sends none.)
/// </summary>
internal sealed record RequestBodyDocumentation(Type BodyType);
