#if NETFRAMEWORK
using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using NenAi.Core.Loading;

namespace NenAi
{
    /// <summary>
    /// Windows PowerShell 5.1 has no load contexts: resolve this module's own dependency DLLs
    /// (System.Text.Json and friends) from its folder, and only those, so other modules are untouched.
    /// Which requests are answered is decided by <see cref="BundledAssemblyResolver"/>.
    /// </summary>
    public sealed class ModuleInitAndCleanup : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static BundledAssemblyResolver? _bundled;

        public void OnImport()
        {
            // Created before subscribing, so resolving never needs NenAi.Core to be resolved first.
            _bundled ??= new BundledAssemblyResolver(Path.GetDirectoryName(typeof(ModuleInitAndCleanup).Assembly.Location)!);
            AppDomain.CurrentDomain.AssemblyResolve += Resolve;
        }

        public void OnRemove(PSModuleInfo psModuleInfo) => AppDomain.CurrentDomain.AssemblyResolve -= Resolve;

        private static Assembly? Resolve(object? sender, ResolveEventArgs args)
        {
            string? path = _bundled?.Resolve(args.Name);
            return path is null ? null : Assembly.LoadFrom(path);
        }
    }
}
#endif
