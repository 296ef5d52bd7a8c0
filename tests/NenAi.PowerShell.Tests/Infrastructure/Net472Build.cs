using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>
    /// The module's net472 NenAi.dll and NenAi.Core.dll (what Windows PowerShell 5.1 loads), run here in a load context
    /// of their own, so the code inside #if NETFRAMEWORK is what runs. Everything else (System.Net.Http, the host's
    /// System.Management.Automation) comes from this process, so settings are checked on .NET 10's types of the same names.
    /// </summary>
    public sealed class Net472Build : AssemblyLoadContext
    {
        public static string Bin => Path.Combine(PsSession.ModuleDirectory, "bin", "net472");

        public Net472Build() : base("net472-module")
        {
            Core = LoadFromAssemblyPath(Path.Combine(Bin, "NenAi.Core.dll"));
            Cmdlets = LoadFromAssemblyPath(Path.Combine(Bin, "NenAi.dll"));
        }

        public Assembly Core { get; }
        public Assembly Cmdlets { get; }

        protected override Assembly? Load(AssemblyName name) =>
            name.Name is "NenAi" or "NenAi.Core" ? LoadFromAssemblyPath(Path.Combine(Bin, name.Name + ".dll")) : null;

        public Type CoreType(string name) => Core.GetType("NenAi.Core." + name, throwOnError: true)!;

        public object Secret(string text) => Activator.CreateInstance(CoreType("Configuration.SecretValue"), PsSession.Secure(text))!;

        /// <summary>NenClientOptions.Resolve(baseUrl, apiKey) of the net472 build, with no environment and no session.</summary>
        public object Options(string baseUrl) =>
            CoreType("Configuration.NenClientOptions").GetMethod("Resolve")!.Invoke(null, new object?[] { baseUrl, Secret("k"), null, null, true, true, (Func<string, string?>)(_ => null), null })!;

        public static void Set(object target, string property, object? value) => target.GetType().GetProperty(property)!.SetValue(target, value);

        public static object? Get(object target, string property) => target.GetType().GetProperty(property)!.GetValue(target);
    }
}
