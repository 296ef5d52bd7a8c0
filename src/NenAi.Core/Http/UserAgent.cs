using System.Reflection;

namespace NenAi.Core.Http
{
    /// <summary>The User-Agent names the module and its version so Nen support can see who calls.</summary>
    public static class UserAgent
    {
        public static readonly string Version =
            typeof(UserAgent).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
            ?? typeof(UserAgent).Assembly.GetName().Version?.ToString() ?? "0.0.0";

        public static readonly string Value = "NenAi/" + Version + " (PowerShell module)";
    }
}
