using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;

namespace NenAi.Core.Loading
{
    /// <summary>
    /// The decision behind the module's assembly resolver on Windows PowerShell 5.1, which has no load contexts:
    /// answer a request from the module's own folder only when one of the module's own assemblies (a DLL in that
    /// folder) asks, only for a dependency the module ships, and only with a file at least as new as the version
    /// asked for. Never for another module's binds, System.Management.Automation (the host's), a framework assembly,
    /// or a stray DLL that happens to sit in the folder, so other modules keep their own copies. Pure and built for
    /// both editions, so tests run exactly what the resolver runs.
    /// </summary>
    public sealed class BundledAssemblyResolver
    {
        /// <summary>
        /// The net472 build's dependencies that .NET Framework 4.7.2 does not provide (at the version referenced), all
        /// shipped in bin/net472. A test compares this list with the DLLs' real references.
        /// </summary>
        public static readonly IReadOnlyCollection<string> ShippedNames = new[]
        {
            "NenAi.Core",
            "Microsoft.Bcl.AsyncInterfaces",
            "System.Buffers",
            "System.Memory",
            "System.Numerics.Vectors",
            "System.Runtime.CompilerServices.Unsafe",
            "System.Text.Encodings.Web",
            "System.Text.Json",
            "System.Threading.Tasks.Extensions",
            "System.ValueTuple",
        };

        private static readonly HashSet<string> Shipped = new HashSet<string>(ShippedNames, StringComparer.OrdinalIgnoreCase);
        private readonly string _directory;

        /// <param name="directory">The folder the module's net472 DLLs are in.</param>
        public BundledAssemblyResolver(string directory)
        {
            _directory = Path.GetFullPath(directory ?? throw new ArgumentNullException(nameof(directory)));
        }

        /// <summary>
        /// The file to load for <paramref name="requestedAssembly"/> (a full assembly name), or null to let the runtime go
        /// on looking.
        /// </summary>
        /// <param name="requestingAssemblyPath">Where the assembly whose reference failed to bind was loaded from
        /// (ResolveEventArgs.RequestingAssembly); null when the runtime does not say, which is never one of ours.</param>
        public string? Resolve(string requestedAssembly, string? requestingAssemblyPath)
        {
            if (!IsOurs(requestingAssemblyPath)) return null;
            AssemblyName requested;
            try
            {
                requested = new AssemblyName(requestedAssembly);
            }
            catch (Exception ex) when (ex is ArgumentException || ex is FileLoadException)
            {
                return null;
            }
            if (requested.Name is null || !Shipped.Contains(requested.Name)) return null;
            string candidate = Path.Combine(_directory, requested.Name + ".dll");
            Version? shipped = VersionOf(candidate);
            if (shipped is null) return null;
            return requested.Version is null || shipped >= requested.Version ? candidate : null;
        }

        /// <summary>A DLL loaded from the module's own folder: NenAi, NenAi.Core or a dependency shipped with them.</summary>
        private bool IsOurs(string? assemblyPath)
        {
            if (string.IsNullOrEmpty(assemblyPath)) return false;
            string? folder;
            try
            {
                folder = Path.GetDirectoryName(Path.GetFullPath(assemblyPath));
            }
            catch (Exception ex) when (ex is ArgumentException || ex is NotSupportedException || ex is PathTooLongException)
            {
                return false;
            }
            return string.Equals(Trimmed(folder), Trimmed(_directory), StringComparison.OrdinalIgnoreCase);
        }

        private static string Trimmed(string? folder) => (folder ?? string.Empty).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);

        private static Version? VersionOf(string path)
        {
            if (!File.Exists(path)) return null;
            try
            {
                return AssemblyName.GetAssemblyName(path).Version;
            }
            catch (Exception ex) when (ex is BadImageFormatException || ex is IOException)
            {
                return null;
            }
        }
    }
}
