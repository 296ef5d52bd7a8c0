using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

namespace NenAi.Core.Loading
{
    /// <summary>
    /// The decision behind the module's assembly resolver on Windows PowerShell 5.1, which has no load contexts:
    /// answer a request from the module's own folder only when one of the module's own assemblies asks, only for a
    /// dependency the module ships, and only with a file at least as new as the version asked for. "One of ours" is told
    /// by identity, not by folder: the requester's full name (name, version, culture, public key token) is that of a
    /// file the module ships. So a dependency that another module or the GAC loaded first, identical to ours (System.Memory
    /// 4.0.1.2 from elsewhere, asking for System.Runtime.CompilerServices.Unsafe 4.0.4.1, of which the module ships
    /// 6.0.0.0), is answered too; and two NenAi versions in one process each answer for their own NenAi and NenAi.Core,
    /// whose versions differ. Never for another module's own binds, System.Management.Automation (the host's), a
    /// framework assembly, or a stray DLL that happens to sit in the folder, so other modules keep their own copies. Pure
    /// and built for both editions, so tests run exactly what the resolver runs.
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

        /// <summary>The cmdlet assembly, which asks but is never asked for (PowerShell loads it by path).</summary>
        private const string CmdletAssembly = "NenAi";

        private static readonly HashSet<string> Shipped = new HashSet<string>(ShippedNames, StringComparer.OrdinalIgnoreCase);
        private readonly string _directory;
        private readonly object _gate = new object();
        private List<AssemblyName>? _identities;

        /// <param name="directory">The folder the module's net472 DLLs are in.</param>
        public BundledAssemblyResolver(string directory)
        {
            _directory = Path.GetFullPath(directory ?? throw new ArgumentNullException(nameof(directory)));
        }

        /// <summary>
        /// The file to load for <paramref name="requestedAssembly"/> (a full assembly name), or null to let the runtime go
        /// on looking.
        /// </summary>
        /// <param name="requestingAssembly">The full name of the assembly whose reference failed to bind
        /// (ResolveEventArgs.RequestingAssembly.FullName), wherever it was loaded from; null when the runtime does not
        /// say, which is never one of ours.</param>
        public string? Resolve(string requestedAssembly, string? requestingAssembly)
        {
            if (!IsOurs(requestingAssembly)) return null;
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
            Version? shipped = IdentityOf(candidate)?.Version;
            if (shipped is null) return null;
            return requested.Version is null || shipped >= requested.Version ? candidate : null;
        }

        /// <summary>The requester is, by full name, NenAi, NenAi.Core or a dependency as this folder ships them.</summary>
        private bool IsOurs(string? requestingAssembly)
        {
            if (string.IsNullOrEmpty(requestingAssembly)) return false;
            AssemblyName requester;
            try
            {
                requester = new AssemblyName(requestingAssembly);
            }
            catch (Exception ex) when (ex is ArgumentException || ex is FileLoadException)
            {
                return false;
            }
            foreach (AssemblyName own in Identities())
                if (SameIdentity(own, requester)) return true;
            return false;
        }

        /// <summary>The identities of the module's own files in the folder, read once (their metadata only; nothing is loaded).</summary>
        private List<AssemblyName> Identities()
        {
            lock (_gate)
            {
                if (_identities != null) return _identities;
                var identities = new List<AssemblyName>();
                foreach (string name in new[] { CmdletAssembly }.Concat(ShippedNames))
                {
                    if (IdentityOf(Path.Combine(_directory, name + ".dll")) is AssemblyName identity) identities.Add(identity);
                }
                return _identities = identities;
            }
        }

        /// <summary>Name (ignoring case, as the binder does), version, culture and public key token all equal.</summary>
        public static bool SameIdentity(AssemblyName a, AssemblyName b) =>
            string.Equals(a.Name, b.Name, StringComparison.OrdinalIgnoreCase)
            && Equals(a.Version, b.Version)
            && string.Equals(a.CultureName ?? string.Empty, b.CultureName ?? string.Empty, StringComparison.OrdinalIgnoreCase)
            && (a.GetPublicKeyToken() ?? Array.Empty<byte>()).SequenceEqual(b.GetPublicKeyToken() ?? Array.Empty<byte>());

        private static AssemblyName? IdentityOf(string path)
        {
            if (!File.Exists(path)) return null;
            try
            {
                return AssemblyName.GetAssemblyName(path);
            }
            catch (Exception ex) when (ex is BadImageFormatException || ex is IOException)
            {
                return null;
            }
        }
    }
}
