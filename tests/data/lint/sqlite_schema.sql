PRAGMA foreign_keys = ON;
CREATE TABLE artists (ArtistId INTEGER PRIMARY KEY AUTOINCREMENT, Name NVARCHAR(120));
CREATE TABLE albums (
    AlbumId INTEGER PRIMARY KEY,
    Title NVARCHAR(160) NOT NULL,
    ArtistId INTEGER NOT NULL REFERENCES artists (ArtistId),
    ReleasedAt DATETIME
) WITHOUT ROWID;
CREATE INDEX IFK_AlbumArtistId ON albums (ArtistId);
CREATE TRIGGER albums_touch AFTER UPDATE ON albums BEGIN
    UPDATE albums SET Title = NEW.Title WHERE AlbumId = NEW.AlbumId;
END;
INSERT OR REPLACE INTO artists (ArtistId, Name) VALUES (1, 'AC/DC');
