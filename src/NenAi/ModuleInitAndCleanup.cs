#if NETFRAMEWORK
using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using NenAi.Core.Loading;

namespace NenAi
{
    /// <summary>
    /// Windows PowerShell 5.1 has no load contexts: resolve this module's own dependency DLLs (System.Text.Json and
    /// friends) from its folder, only for binds our own assemblies make (told by identity, not folder), so other modules
    /// are untouched. Which requests are answered is decided by <see cref="BundledAssemblyResolver"/>. Each NenAi
    /// version imported into the process has its own copy of this class, so each registers a resolver for its own folder.
    /// </summary>
    public sealed class ModuleInitAndCleanup : IModuleAssemblyInitializer
    {
        private static readonly object Gate = new object();
        private static BundledAssemblyResolver? _bundled;

        /// <summary>
        /// Registers the resolver once per process. A re-import (Import-Module -Force) or an import into another
        /// runspace adds no second handler, and removing the module never unregisters it: the assemblies stay loaded
        /// for the life of the process, so their binds keep needing it, in every runspace that still uses them.
        /// </summary>
        public void OnImport()
        {
            lock (Gate)
            {
                if (_bundled != null) return;
                // Created before subscribing, so resolving never needs NenAi.Core to be resolved first.
                _bundled = new BundledAssemblyResolver(Path.GetDirectoryName(typeof(ModuleInitAndCleanup).Assembly.Location)!);
                AppDomain.CurrentDomain.AssemblyResolve += Resolve;
            }
        }

        private static Assembly? Resolve(object? sender, ResolveEventArgs args)
        {
            Assembly? requesting = args.RequestingAssembly;
            // By identity, wherever the requester was loaded from (another module's or the GAC's identical System.Memory
            // is answered too); a dynamic assembly is never one of ours.
            string? path = _bundled?.Resolve(args.Name, requesting is null || requesting.IsDynamic ? null : requesting.FullName);
            return path is null ? null : Assembly.LoadFrom(path);
        }
    }
}
#endif
