using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

namespace NenAi.Core.Tests.Infrastructure
{
    /// <summary>A cmdlet parameter as declared in the compiled cmdlet assembly.</summary>
    public sealed record DeclaredParameter(string Name, string TypeName, bool Mandatory, bool ByValue, bool ByPropertyName, string[] Sets, string[] Aliases);

    public sealed record DeclaredCmdlet(string Name, bool SupportsShouldProcess, List<DeclaredParameter> Parameters);

    /// <summary>
    /// Reads [Cmdlet] and [Parameter] from NenAi.dll with a MetadataLoadContext: the assembly is inspected,
    /// never run, so no PowerShell is needed.
    /// </summary>
    public static class CmdletMetadata
    {
        public static string RepoRoot
        {
            get
            {
                var dir = new DirectoryInfo(AppContext.BaseDirectory);
                while (dir != null && !File.Exists(Path.Combine(dir.FullName, "NenAi.sln"))) dir = dir.Parent;
                return dir?.FullName ?? throw new InvalidOperationException("NenAi.sln not found above the test folder.");
            }
        }

        public static List<DeclaredCmdlet> Load()
        {
            string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            string dll = Path.Combine(RepoRoot, "src", "NenAi", "bin", configuration, "net8.0", "NenAi.dll");
            var paths = new List<string>(Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll"))
            {
                dll,
                Path.Combine(Path.GetDirectoryName(dll)!, "NenAi.Core.dll"),
                Path.Combine(AppContext.BaseDirectory, "psref", "System.Management.Automation.dll"),
            };
            using var context = new MetadataLoadContext(new PathAssemblyResolver(paths));
            Assembly assembly = context.LoadFromAssemblyPath(dll);
            var result = new List<DeclaredCmdlet>();
            foreach (Type type in assembly.GetTypes())
            {
                var cmdlet = type.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == "System.Management.Automation.CmdletAttribute");
                if (cmdlet is null) continue;
                string name = cmdlet.ConstructorArguments[0].Value + "-" + cmdlet.ConstructorArguments[1].Value;
                bool shouldProcess = cmdlet.NamedArguments.Any(n => n.MemberName == "SupportsShouldProcess" && (bool)n.TypedValue.Value!);
                var parameters = new List<DeclaredParameter>();
                foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    var attrs = property.GetCustomAttributesData().Where(a => a.AttributeType.FullName == "System.Management.Automation.ParameterAttribute").ToList();
                    if (attrs.Count == 0) continue;
                    bool Named(CustomAttributeData a, string n) => a.NamedArguments.Any(x => x.MemberName == n && x.TypedValue.Value is bool b && b);
                    string[] sets = attrs.Select(a => a.NamedArguments.FirstOrDefault(x => x.MemberName == "ParameterSetName").TypedValue.Value as string ?? "(All)").ToArray();
                    var alias = property.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == "System.Management.Automation.AliasAttribute");
                    string[] aliases = alias is null ? Array.Empty<string>()
                        : ((IEnumerable<CustomAttributeTypedArgument>)alias.ConstructorArguments[0].Value!).Select(v => (string)v.Value!).ToArray();
                    parameters.Add(new DeclaredParameter(property.Name, FriendlyName(property.PropertyType),
                        attrs.Any(a => Named(a, "Mandatory")), attrs.Any(a => Named(a, "ValueFromPipeline")), attrs.Any(a => Named(a, "ValueFromPipelineByPropertyName")), sets, aliases));
                }
                result.Add(new DeclaredCmdlet(name, shouldProcess, parameters));
            }
            return result;
        }

        private static string FriendlyName(Type type)
        {
            if (type.IsArray) return FriendlyName(type.GetElementType()!) + "[]";
            if (type.IsGenericType && type.GetGenericTypeDefinition().FullName == "System.Nullable`1") return FriendlyName(type.GetGenericArguments()[0]);
            return type.Name;
        }
    }
}
