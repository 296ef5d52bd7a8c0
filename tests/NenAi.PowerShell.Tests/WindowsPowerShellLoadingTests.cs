using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Loader;
using NenAi.Core.Loading;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// Windows PowerShell 5.1 loading, checked without 5.1: the net472 build in the laid-out module folder ships every
    /// dependency .NET Framework 4.7.2 lacks, at the version referenced, and the module's resolver answers for exactly
    /// those names, only when one of the module's own DLLs asks, registered once per process (the decision it runs is
    /// <see cref="BundledAssemblyResolver"/>).
    /// </summary>
    public sealed class WindowsPowerShellLoadingTests : IDisposable
    {
        /// <summary>Supplied by the host (Windows PowerShell's GAC), never shipped or resolved by the module.</summary>
        private const string HostAssembly = "System.Management.Automation";
        private static readonly string[] ModuleAssemblies = { "NenAi", "NenAi.Core" };
        private static string Net472Bin => Path.Combine(PsSession.ModuleDirectory, "bin", "net472");
        private readonly string _scratch = Directory.CreateTempSubdirectory("nenai-net472-").FullName;

        public void Dispose() => Directory.Delete(_scratch, recursive: true);

        private sealed record Reference(string Name, Version Version, string ReferencedBy);

        /// <summary>The full name of a DLL of the module's own folder, standing for the assembly whose reference failed to bind.</summary>
        private static string Ours(string name = "NenAi.Core") => FullNameOf(Path.Combine(Net472Bin, name + ".dll"));

        private static string FullNameOf(string dll) => AssemblyName.GetAssemblyName(dll).FullName;

        /// <summary>Name → version of every assembly .NET Framework 4.7.2 provides (its reference assemblies and facades).</summary>
        private static Dictionary<string, Version> Framework()
        {
            string root = typeof(WindowsPowerShellLoadingTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "Net472ReferenceAssemblies").Value!;
            var framework = new Dictionary<string, Version>(StringComparer.OrdinalIgnoreCase);
            foreach (string dll in Directory.GetFiles(root, "*.dll").Concat(Directory.GetFiles(Path.Combine(root, "Facades"), "*.dll")))
            {
                using var pe = new PEReader(File.OpenRead(dll));
                if (!pe.HasMetadata) continue; // a native DLL
                MetadataReader md = pe.GetMetadataReader();
                if (!md.IsAssembly) continue; // a netmodule
                AssemblyDefinition definition = md.GetAssemblyDefinition();
                framework[md.GetString(definition.Name)] = definition.Version;
            }
            Assert.True(framework.ContainsKey("mscorlib") && framework.ContainsKey("netstandard"), $"no .NET Framework reference assemblies in {root}");
            return framework;
        }

        private static (string Name, Version Version) Identity(string dll)
        {
            using var pe = new PEReader(File.OpenRead(dll));
            MetadataReader md = pe.GetMetadataReader();
            AssemblyDefinition definition = md.GetAssemblyDefinition();
            return (md.GetString(definition.Name), definition.Version);
        }

        private static List<Reference> ReferencesOf(string dll)
        {
            using var pe = new PEReader(File.OpenRead(dll));
            MetadataReader md = pe.GetMetadataReader();
            string self = md.GetString(md.GetAssemblyDefinition().Name);
            return md.AssemblyReferences.Select(h => md.GetAssemblyReference(h)).Select(r => new Reference(md.GetString(r.Name), r.Version, self)).ToList();
        }

        /// <summary>
        /// Walks the references of NenAi.dll and NenAi.Core.dll, and of every shipped DLL they lead to. Returns what must
        /// be shipped (name → highest version referenced) and every problem found: missing, or shipped older than referenced.
        /// </summary>
        private static (SortedDictionary<string, Version> Needed, List<string> Problems) Walk(string bin)
        {
            Dictionary<string, Version> framework = Framework();
            var needed = new SortedDictionary<string, Version>(StringComparer.OrdinalIgnoreCase);
            var problems = new List<string>();
            var queue = new Queue<string>(ModuleAssemblies);
            var visited = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            while (queue.Count > 0)
            {
                string name = queue.Dequeue();
                if (!visited.Add(name)) continue;
                string file = Path.Combine(bin, name + ".dll");
                if (!File.Exists(file)) continue; // reported where it is referenced
                foreach (Reference reference in ReferencesOf(file))
                {
                    if (reference.Name == HostAssembly) continue;
                    if (framework.TryGetValue(reference.Name, out Version? provided) && provided >= reference.Version) continue;
                    needed[reference.Name] = needed.TryGetValue(reference.Name, out Version? v) && v > reference.Version ? v : reference.Version;
                    string shipped = Path.Combine(bin, reference.Name + ".dll");
                    if (!File.Exists(shipped))
                    {
                        problems.Add($"{reference.Name} {reference.Version} (referenced by {reference.ReferencedBy}) is not shipped in bin/net472");
                        continue;
                    }
                    var (shippedName, shippedVersion) = Identity(shipped);
                    if (!string.Equals(shippedName, reference.Name, StringComparison.OrdinalIgnoreCase) || shippedVersion < reference.Version)
                        problems.Add($"{reference.Name} {reference.Version} (referenced by {reference.ReferencedBy}) is shipped as {shippedName} {shippedVersion}");
                    queue.Enqueue(reference.Name);
                }
            }
            return (needed, problems);
        }

        private string CopyOfBin()
        {
            string copy = Path.Combine(_scratch, "net472");
            Directory.CreateDirectory(copy);
            foreach (string dll in Directory.GetFiles(Net472Bin, "*.dll")) File.Copy(dll, Path.Combine(copy, Path.GetFileName(dll)));
            return copy;
        }

        [Fact]
        public void EveryNonFrameworkReferenceOfTheNet472BuildIsShippedAtLeastAtTheVersionReferenced()
        {
            var (needed, problems) = Walk(Net472Bin);

            Assert.Empty(problems);
            // Not vacuous: the core's JSON stack and System.ValueTuple 4.0.3 (newer than 4.7.2's 4.0.2) are among them.
            Assert.Contains("System.Text.Json", needed.Keys);
            Assert.Contains("System.Memory", needed.Keys);
            Assert.Contains("System.ValueTuple", needed.Keys);
            Assert.DoesNotContain(HostAssembly, needed.Keys);
            Assert.DoesNotContain("System.Net.Http", needed.Keys);
        }

        [Fact]
        public void TheCheckReportsADependencyThatIsNotShipped()
        {
            string bin = CopyOfBin();
            File.Delete(Path.Combine(bin, "System.Memory.dll"));

            var (_, problems) = Walk(bin);

            Assert.Contains(problems, p => p.StartsWith("System.Memory ") && p.Contains("not shipped"));
        }

        [Fact]
        public void TheResolverAnswersForExactlyTheDependenciesTheReferencesNeed()
        {
            var (needed, _) = Walk(Net472Bin);

            Assert.Equal(needed.Keys.OrderBy(n => n, StringComparer.OrdinalIgnoreCase), BundledAssemblyResolver.ShippedNames.OrderBy(n => n, StringComparer.OrdinalIgnoreCase));
        }

        [Fact]
        public void TheResolverLoadsEachShippedDependencyFromTheModuleFolderAtTheVersionReferencedButNoNewerRequest()
        {
            var (needed, _) = Walk(Net472Bin);
            var resolver = new BundledAssemblyResolver(Net472Bin);

            foreach (var (name, version) in needed)
            {
                Assert.Equal(Path.Combine(Net472Bin, name + ".dll"), resolver.Resolve($"{name}, Version={version}, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51", Ours()));
                Assert.Equal(Path.Combine(Net472Bin, name + ".dll"), resolver.Resolve(name, Ours()));
                var newer = new Version(version.Major, version.Minor, version.Build, version.Revision + 1);
                Assert.Null(resolver.Resolve($"{name}, Version={newer}, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51", Ours()));
            }
        }

        [Theory]
        [InlineData("System.Management.Automation, Version=3.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35")]
        [InlineData("System.Net.Http, Version=4.2.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a")]
        [InlineData("mscorlib, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089")]
        [InlineData("Newtonsoft.Json, Version=6.0.0.0, Culture=neutral, PublicKeyToken=30ad4fe6b2a6aeed")]
        [InlineData("System.Text.Json.resources, Version=8.0.0.0, Culture=de, PublicKeyToken=cc7b13ffcd2ddd51")]
        [InlineData("not an assembly name, Version=x")]
        public void TheResolverNeverAnswersForTheHostFrameworkOrAStrayDllEvenWhenTheFolderHasOne(string requested)
        {
            string bin = CopyOfBin();
            // Someone dropped DLLs with these names into the module folder (copies of an 8.0 assembly: new enough for every request above).
            foreach (string stray in new[] { "System.Management.Automation", "System.Net.Http", "mscorlib", "Newtonsoft.Json", "System.Text.Json.resources" })
                File.Copy(Path.Combine(bin, "System.Text.Json.dll"), Path.Combine(bin, stray + ".dll"));

            Assert.Null(new BundledAssemblyResolver(bin).Resolve(requested, FullNameOf(Path.Combine(bin, "NenAi.Core.dll"))));
        }

        /// <summary>Every reference one shipped DLL makes to another: (requesting DLL, requested name and version).</summary>
        private static List<(string Requesting, string Name, Version Version)> ShippedEdges()
        {
            var edges = new List<(string, string, Version)>();
            foreach (string dll in Directory.GetFiles(Net472Bin, "*.dll"))
            {
                foreach (Reference reference in ReferencesOf(dll))
                {
                    if (BundledAssemblyResolver.ShippedNames.Contains(reference.Name, StringComparer.OrdinalIgnoreCase))
                        edges.Add((dll, reference.Name, reference.Version));
                }
            }
            return edges;
        }

        [Fact]
        public void EveryBindBetweenShippedDllsIsAnsweredWithAFileAtLeastAsNewAsAskedIncludingUnsafe4041ToItsShipped6000()
        {
            var resolver = new BundledAssemblyResolver(Net472Bin);
            var edges = ShippedEdges();

            foreach (var (requesting, name, version) in edges)
            {
                string? answer = resolver.Resolve($"{name}, Version={version}, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51", FullNameOf(requesting));
                Assert.True(answer != null, $"{Path.GetFileName(requesting)} asks for {name} {version}: not answered");
                Assert.True(Identity(answer!).Version >= version, $"{name} {version} answered with {Identity(answer!).Version}");
            }
            // As shipped: System.Memory (and friends) were built against Unsafe 4.0.4.1; the folder has 6.0.0.0 (System.Text.Json's),
            // and .NET Framework binds no other version without the resolver (no binding redirects in powershell.exe.config).
            var unsafe4041 = edges.Where(e => e.Name == "System.Runtime.CompilerServices.Unsafe" && e.Version == new Version(4, 0, 4, 1)).ToList();
            Assert.Contains(unsafe4041, e => Path.GetFileName(e.Requesting) == "System.Memory.dll");
            Assert.Equal(new Version(6, 0, 0, 0), Identity(Path.Combine(Net472Bin, "System.Runtime.CompilerServices.Unsafe.dll")).Version);
            Assert.Equal(Path.Combine(Net472Bin, "System.Runtime.CompilerServices.Unsafe.dll"),
                resolver.Resolve("System.Runtime.CompilerServices.Unsafe, Version=4.0.4.1, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a", Ours("System.Memory")));
        }

        [Theory]
        [InlineData(null)]
        [InlineData("OtherModule, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null")]
        [InlineData("System.Memory, Version=4.0.1.1, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51")] // another module's older System.Memory: not the file we ship
        [InlineData("NenAi.Core, Version=0.1.0.0, Culture=neutral, PublicKeyToken=null")]                 // another NenAi version's core
        [InlineData("System.Memory, Version=4.0.1.2, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a")]  // our version, another publisher's key
        public void ABindOfAnAssemblyThatIsNotOneOfOurFilesIsNeverAnsweredEvenForANameWeShip(string? requesting)
        {
            var resolver = new BundledAssemblyResolver(Net472Bin);

            // Before the resolver answered for any requester, another module's System.Memory 4.0.1.1 bind got ours.
            Assert.Null(resolver.Resolve("System.Memory, Version=4.0.1.1, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51", requesting));
            Assert.NotNull(resolver.Resolve("System.Memory, Version=4.0.1.1, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51", Ours()));
        }

        [Fact]
        public void ABindOfOurOwnDependencyLoadedFromAnotherFolderIsAnsweredFromOurs()
        {
            // Another module (or the GAC) loaded the very System.Memory 4.0.1.2 we ship, from its own folder: the runtime
            // unified ours with it, so its request for Unsafe 4.0.4.1 is the one our JSON parsing needs answered (the
            // folder has 6.0.0.0). Before, by folder, it was declined and the first JSON parse threw FileLoadException.
            string other = Path.Combine(_scratch, "OtherModule", "bin");
            Directory.CreateDirectory(other);
            File.Copy(Path.Combine(Net472Bin, "System.Memory.dll"), Path.Combine(other, "System.Memory.dll"));
            var context = new AssemblyLoadContext("other-module", isCollectible: true);
            try
            {
                Assembly requester = context.LoadFromAssemblyPath(Path.Combine(other, "System.Memory.dll"));
                Assert.Equal(other, Path.GetDirectoryName(requester.Location)); // loaded from the other folder
                Assert.Equal(Ours("System.Memory"), requester.FullName);

                string? answer = new BundledAssemblyResolver(Net472Bin).Resolve("System.Runtime.CompilerServices.Unsafe, Version=4.0.4.1, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a", requester.FullName);

                Assert.Equal(Path.Combine(Net472Bin, "System.Runtime.CompilerServices.Unsafe.dll"), answer);
            }
            finally
            {
                context.Unload();
            }
        }

        /// <summary>Writes an empty assembly named <paramref name="name"/> at <paramref name="version"/> (a stand-in for another NenAi version's DLL).</summary>
        private static void EmitAssembly(string path, string name, Version version)
        {
            var builder = new System.Reflection.Emit.PersistedAssemblyBuilder(new AssemblyName(name) { Version = version }, typeof(object).Assembly);
            builder.DefineDynamicModule(name).DefineType(name.Replace('.', '_') + "Marker", TypeAttributes.Public).CreateType();
            builder.Save(path);
        }

        [Fact]
        public void TwoNenAiVersionsInOneProcessEachAnswerTheirOwnAssembliesFromTheirOwnFolder()
        {
            // 0.2 (the build) in one folder, a later NenAi in another: its NenAi and NenAi.Core are 9.9.0.0.
            string later = CopyOfBin();
            File.Delete(Path.Combine(later, "NenAi.Core.dll"));
            File.Delete(Path.Combine(later, "NenAi.dll"));
            EmitAssembly(Path.Combine(later, "NenAi.Core.dll"), "NenAi.Core", new Version(9, 9, 0, 0));
            EmitAssembly(Path.Combine(later, "NenAi.dll"), "NenAi", new Version(9, 9, 0, 0));
            var first = new BundledAssemblyResolver(Net472Bin);
            var second = new BundledAssemblyResolver(later);
            string laterCore = FullNameOf(Path.Combine(later, "NenAi.Core.dll"));
            const string json = "System.Text.Json, Version=8.0.0.0, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51";

            Assert.NotEqual(Ours(), laterCore);
            Assert.Equal(Path.Combine(Net472Bin, "System.Text.Json.dll"), first.Resolve(json, Ours()));
            Assert.Null(second.Resolve(json, Ours()));
            Assert.Equal(Path.Combine(later, "System.Text.Json.dll"), second.Resolve(json, laterCore));
            Assert.Null(first.Resolve(json, laterCore));
            Assert.Equal(Path.Combine(later, "System.Text.Json.dll"), second.Resolve(json, FullNameOf(Path.Combine(later, "NenAi.dll"))));
            // A dependency both ship identically is one assembly in the process: either folder's copy is the same file.
            const string unsafe4041 = "System.Runtime.CompilerServices.Unsafe, Version=4.0.4.1, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a";
            Assert.Equal(Path.Combine(Net472Bin, "System.Runtime.CompilerServices.Unsafe.dll"), first.Resolve(unsafe4041, Ours("System.Memory")));
            Assert.Equal(Path.Combine(later, "System.Runtime.CompilerServices.Unsafe.dll"), second.Resolve(unsafe4041, Ours("System.Memory")));
        }

        /// <summary>The handlers the net472 ModuleInitAndCleanup has on AppDomain.AssemblyResolve (.NET keeps them in AssemblyLoadContext).</summary>
        private static Delegate[] OurResolveHandlers()
        {
            FieldInfo field = typeof(AssemblyLoadContext).GetField("AssemblyResolve", BindingFlags.NonPublic | BindingFlags.Static)
                ?? throw new InvalidOperationException("this runtime keeps AppDomain.AssemblyResolve elsewhere; update the test");
            var all = (Delegate?)field.GetValue(null);
            return all is null ? Array.Empty<Delegate>() : all.GetInvocationList().Where(d => d.Method.DeclaringType?.FullName == "NenAi.ModuleInitAndCleanup").ToArray();
        }

        [Fact]
        public void TheNet472BuildRegistersItsResolverOncePerProcessAndItIgnoresBindsOfOthers()
        {
            var build = new Net472Build();
            Type init = build.Cmdlets.GetType("NenAi.ModuleInitAndCleanup", throwOnError: true)!;
            int before = OurResolveHandlers().Length;
            try
            {
                // Import, Import-Module -Force, an import into a second runspace: three OnImport calls.
                for (int i = 0; i < 3; i++) init.GetMethod("OnImport")!.Invoke(Activator.CreateInstance(init), null);

                Delegate[] handlers = OurResolveHandlers();
                Assert.Equal(before + 1, handlers.Length); // before: one more per import, and Remove-Module took the others' away
                Assert.Null(init.GetMethod("OnRemove")); // so removing the module from one runspace cannot unregister it for another
                var resolve = (ResolveEventHandler)handlers.Last();
                // Another module (here: this test assembly) asking for a name we ship gets no answer from us.
                Assert.Null(resolve(null, new ResolveEventArgs("System.Memory, Version=4.0.1.2, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51", typeof(WindowsPowerShellLoadingTests).Assembly)));
                Assert.Null(resolve(null, new ResolveEventArgs("System.Memory, Version=4.0.1.2, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51", null)));
            }
            finally
            {
                foreach (Delegate handler in OurResolveHandlers().Skip(before)) AppDomain.CurrentDomain.AssemblyResolve -= (ResolveEventHandler)handler;
            }
        }
    }
}
