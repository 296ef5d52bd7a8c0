using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Xml;

namespace NenAi.HelpGen
{
    /// <summary>Writes command help as MAML, the XML Get-Help reads (the same shape platyPS's New-ExternalHelp emits).</summary>
    public static class MamlWriter
    {
        private const string Msh = "http://msh";
        private const string Maml = "http://schemas.microsoft.com/maml/2004/10";
        private const string Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        private const string Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

        public static string Write(IEnumerable<CommandHelp> commands)
        {
            var sb = new StringBuilder();
            var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), OmitXmlDeclaration = false };
            using (var w = XmlWriter.Create(sb, settings))
            {
                w.WriteStartDocument();
                w.WriteStartElement("helpItems", Msh);
                w.WriteAttributeString("schema", "maml");
                foreach (CommandHelp c in commands) WriteCommand(w, c);
                w.WriteEndElement();
                w.WriteEndDocument();
            }
            return sb.ToString().Replace("encoding=\"utf-16\"", "encoding=\"utf-8\"");
        }

        private static void WriteCommand(XmlWriter w, CommandHelp c)
        {
            w.WriteStartElement("command", "command", Command);
            w.WriteAttributeString("xmlns", "maml", null, Maml);
            w.WriteAttributeString("xmlns", "dev", null, Dev);
            w.WriteStartElement("command", "details", Command);
            w.WriteElementString("command", "name", Command, c.Name);
            string[] verbNoun = c.Name.Split('-', 2);
            w.WriteElementString("command", "verb", Command, verbNoun[0]);
            w.WriteElementString("command", "noun", Command, verbNoun.Length > 1 ? verbNoun[1] : string.Empty);
            Paras(w, "description", Maml, c.Synopsis);
            w.WriteEndElement();

            Paras(w, "description", Maml, c.Description);

            w.WriteStartElement("command", "syntax", Command);
            foreach (string set in ParameterSets(c))
            {
                w.WriteStartElement("command", "syntaxItem", Command);
                w.WriteElementString("maml", "name", Maml, c.Name);
                foreach (ParameterHelp p in c.Parameters.Where(p => InSet(p, set)))
                    WriteParameter(w, p);
                w.WriteEndElement();
            }
            w.WriteEndElement();

            w.WriteStartElement("command", "parameters", Command);
            foreach (ParameterHelp p in c.Parameters) WriteParameter(w, p);
            w.WriteEndElement();

            WriteTypes(w, "inputTypes", "inputType", c.Inputs);
            WriteTypes(w, "returnValues", "returnValue", c.Outputs);

            w.WriteStartElement("maml", "alertSet", Maml);
            w.WriteStartElement("maml", "alert", Maml);
            foreach (string para in Split(c.Notes)) w.WriteElementString("maml", "para", Maml, para);
            w.WriteEndElement();
            w.WriteEndElement();

            w.WriteStartElement("command", "examples", Command);
            foreach (ExampleHelp e in c.Examples)
            {
                w.WriteStartElement("command", "example", Command);
                w.WriteElementString("maml", "title", Maml, $"-------------------------- {e.Title} --------------------------");
                w.WriteElementString("dev", "code", Dev, e.Code);
                Paras(w, "remarks", Dev, e.Remarks);
                w.WriteEndElement();
            }
            w.WriteEndElement();

            w.WriteStartElement("command", "relatedLinks", Command);
            foreach (string link in c.RelatedLinks)
            {
                // [text](uri)
                int close = link.IndexOf("](", StringComparison.Ordinal);
                string text = close > 0 ? link.Substring(1, close - 1) : link;
                string uri = close > 0 ? link.Substring(close + 2).TrimEnd(')') : string.Empty;
                w.WriteStartElement("maml", "navigationLink", Maml);
                w.WriteElementString("maml", "linkText", Maml, text);
                w.WriteElementString("maml", "uri", Maml, uri.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? uri : string.Empty);
                w.WriteEndElement();
            }
            w.WriteEndElement();
            w.WriteEndElement();
        }

        private static void WriteParameter(XmlWriter w, ParameterHelp p)
        {
            string type = p.Field("Type");
            bool isSwitch = type == "SwitchParameter";
            w.WriteStartElement("command", "parameter", Command);
            w.WriteAttributeString("required", Bool(p.Field("Required")));
            w.WriteAttributeString("variableLength", type.EndsWith("[]", StringComparison.Ordinal) ? "true" : "false");
            w.WriteAttributeString("globbing", Bool(p.Field("Accept wildcard characters")));
            w.WriteAttributeString("pipelineInput", string.IsNullOrEmpty(p.Field("Accept pipeline input")) ? "False" : p.Field("Accept pipeline input"));
            w.WriteAttributeString("position", string.IsNullOrEmpty(p.Field("Position")) ? "named" : p.Field("Position").ToLowerInvariant());
            w.WriteAttributeString("aliases", string.IsNullOrEmpty(p.Field("Aliases")) ? "none" : p.Field("Aliases"));
            w.WriteElementString("maml", "name", Maml, p.Name);
            Paras(w, "description", Maml, p.Description);
            if (!isSwitch)
            {
                w.WriteStartElement("command", "parameterValue", Command);
                w.WriteAttributeString("required", "true");
                w.WriteAttributeString("variableLength", "false");
                w.WriteString(type);
                w.WriteEndElement();
            }
            w.WriteStartElement("dev", "type", Dev);
            w.WriteElementString("maml", "name", Maml, type);
            w.WriteElementString("maml", "uri", Maml, string.Empty);
            w.WriteEndElement();
            w.WriteElementString("dev", "defaultValue", Dev, string.IsNullOrEmpty(p.Field("Default value")) ? "None" : p.Field("Default value"));
            w.WriteEndElement();
        }

        private static void WriteTypes(XmlWriter w, string outer, string inner, List<TypeHelp> types)
        {
            w.WriteStartElement("command", outer, Command);
            foreach (TypeHelp t in types)
            {
                w.WriteStartElement("command", inner, Command);
                w.WriteStartElement("dev", "type", Dev);
                w.WriteElementString("maml", "name", Maml, t.TypeName);
                w.WriteEndElement();
                Paras(w, "description", Maml, t.Description);
                w.WriteEndElement();
            }
            w.WriteEndElement();
        }

        private static void Paras(XmlWriter w, string element, string ns, string text)
        {
            w.WriteStartElement(ns == Maml ? "maml" : "dev", element, ns);
            foreach (string para in Split(text)) w.WriteElementString("maml", "para", Maml, para);
            w.WriteEndElement();
        }

        private static IEnumerable<string> Split(string text) =>
            text.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        /// <summary>Parameter sets named in the yaml blocks; one unnamed set when every parameter is "(All)".</summary>
        public static List<string> ParameterSets(CommandHelp c)
        {
            var sets = new List<string>();
            foreach (ParameterHelp p in c.Parameters)
                foreach (string s in p.Field("Parameter Sets").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    if (s != "(All)" && !sets.Contains(s)) sets.Add(s);
            if (sets.Count == 0) sets.Add("(All)");
            return sets;
        }

        private static bool InSet(ParameterHelp p, string set)
        {
            string sets = p.Field("Parameter Sets");
            return sets.Length == 0 || sets == "(All)" || set == "(All)" ||
                   sets.Split(',', StringSplitOptions.TrimEntries).Contains(set);
        }


        private static string Bool(string value) => string.Equals(value, "True", StringComparison.OrdinalIgnoreCase) ? "true" : "false";
    }
}
