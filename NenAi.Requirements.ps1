# What NenAi needs from the PowerShell that imports it. NenAi.psm1 dot-sources this file and asks before it
# loads any DLL, so an unsupported host gets one clear message instead of a load or missing-method error.
# A function of its arguments only (tests drive it with made-up versions), written for Constrained Language:
# no .NET method calls.

function Get-NenAiRequirementProblem {
    param(
        # $PSVersionTable.PSEdition: 'Core' or 'Desktop'.
        [string] $Edition,
        # $PSVersionTable.PSVersion.
        $Version,
        # The Release value under HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full ($null when it cannot be read).
        $NetFrameworkRelease
    )
    if ($Edition -eq 'Core') {
        if ($Version.Major -lt 7 -or ($Version.Major -eq 7 -and $Version.Minor -lt 4)) {
            return "NenAi needs PowerShell 7.4 or later (its PowerShell 7 build runs on .NET 8); this is PowerShell $Version. " +
                'Install PowerShell 7.4 or later (https://aka.ms/powershell), or use Windows PowerShell 5.1.'
        }
        return $null
    }
    # .NET Framework 4.7.2 is Release 461808 (461814 outside Windows 10 1803). An unreadable key is not a refusal.
    if ($null -ne $NetFrameworkRelease -and [int]$NetFrameworkRelease -lt 461808) {
        $installed = 'an older .NET Framework'
        foreach ($known in @(
                @(461308, '4.7.1'), @(460798, '4.7'), @(394802, '4.6.2'), @(394254, '4.6.1'), @(393295, '4.6'),
                @(379893, '4.5.2'), @(378675, '4.5.1'), @(378389, '4.5'))) {
            if ([int]$NetFrameworkRelease -ge $known[0]) { $installed = ".NET Framework $($known[1])"; break }
        }
        return "NenAi needs .NET Framework 4.7.2 or later in Windows PowerShell 5.1; this computer has $installed (Release $NetFrameworkRelease). " +
            'Install .NET Framework 4.8 (Windows Update or WSUS, or the offline installer from https://dotnet.microsoft.com/download/dotnet-framework/net48), ' +
            'restart, then import NenAi again; or use PowerShell 7.4 or later.'
    }
    $null
}
