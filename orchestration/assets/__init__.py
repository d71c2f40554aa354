"""orchestration/assets"""
