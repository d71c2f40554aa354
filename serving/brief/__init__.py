"""The monthly economic-operation brief (经济运行月报): figures, page, PDF, where briefs are kept."""
