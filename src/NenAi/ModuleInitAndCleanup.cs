#if NETFRAMEWORK
using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;

namespace NenAi
{
    /// <summary>
    /// Windows PowerShell 5.1 has no load contexts: resolve this module's own dependency DLLs
    /// (System.Text.Json and friends) from its folder, and only those, so other modules are untouched.
    /// </summary>
    public sealed class ModuleInitAndCleanup : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static readonly string BinDirectory = Path.GetDirectoryName(typeof(ModuleInitAndCleanup).Assembly.Location)!;

        public void OnImport() => AppDomain.CurrentDomain.AssemblyResolve += Resolve;

        public void OnRemove(PSModuleInfo psModuleInfo) => AppDomain.CurrentDomain.AssemblyResolve -= Resolve;

        private static Assembly? Resolve(object? sender, ResolveEventArgs args)
        {
            var name = new AssemblyName(args.Name);
            string candidate = Path.Combine(BinDirectory, name.Name + ".dll");
            if (!File.Exists(candidate)) return null;
            var found = AssemblyName.GetAssemblyName(candidate);
            // Only a version at least as new as the one asked for is a valid answer.
            return name.Version is null || found.Version >= name.Version ? Assembly.LoadFrom(candidate) : null;
        }
    }
}
#endif
