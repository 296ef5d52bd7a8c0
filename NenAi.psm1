# Loads the cmdlet assembly built for the running edition: net8.0 on PowerShell 7.4+, net472 on Windows
# PowerShell 5.1. Works from a built module folder (bin/<tfm>) and from the repository root after
# ./build.ps1 -Task Build (out/NenAi/bin/<tfm>). Written for Constrained Language (an unsigned module on a
# WDAC/AppLocker host runs in it): engine commands and operators only, no .NET method calls or reflection.
# Only engine commands are used (plus the registry provider on Windows PowerShell), so the module loads
# wherever the engine does.
. "$PSScriptRoot/NenAi.Requirements.ps1"

$release = $null
if ($PSVersionTable.PSEdition -ne 'Core') {
    $ndp = Microsoft.PowerShell.Management\Get-ItemProperty -LiteralPath 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full' -Name Release -ErrorAction SilentlyContinue
    if ($ndp) { $release = $ndp.Release }
}
$problem = Get-NenAiRequirementProblem -Edition $PSVersionTable.PSEdition -Version $PSVersionTable.PSVersion -NetFrameworkRelease $release
if ($problem) { throw $problem }

$importModule = Get-Command -Name Import-Module -Module Microsoft.PowerShell.Core
$tfm = if ($PSVersionTable.PSEdition -eq 'Core') { 'net8.0' } else { 'net472' }
$candidates = @("$PSScriptRoot/bin/$tfm/NenAi.dll", "$PSScriptRoot/out/NenAi/bin/$tfm/NenAi.dll")
$loaded = $false
foreach ($dll in $candidates) {
    try {
        # By path every time: a re-import (-Force) then exports the cmdlets again, which an import of the already
        # loaded assembly (-Assembly) does not (PowerShell/PowerShell#20710).
        &$importModule -Name $dll -ErrorAction Stop
        $loaded = $true
        break
    }
    catch {
        # Not at this place: try the next. Anything else is the answer.
        if ($_.FullyQualifiedErrorId -like 'Modules_ModuleNotFound,*') { continue }
        if ("$($_.Exception.Message) $($_.Exception.InnerException.Message)" -match '0x80131515') {
            throw "NenAi's files are blocked: they came from the internet (a zip unpacked with Explorer keeps that mark), so .NET will not load $dll. Unblock them once, then import again: Get-ChildItem -LiteralPath '$PSScriptRoot' -Recurse | Unblock-File"
        }
        throw
    }
}
if (-not $loaded) {
    throw "NenAi is not built for $tfm. Run ./build.ps1 -Task Build first (looked in: $($candidates -join ', '))."
}
